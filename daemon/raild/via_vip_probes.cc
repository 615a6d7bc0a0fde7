// ViaVipProbes: probe ids, the encapsulator's targets, and via-VIP probe targets for raild.
#include "daemon/raild/via_vip_probes.h"

namespace rail::daemon {

ViaVipProbes::ViaVipProbes(std::vector<std::string> interfaces, MacAddress interface_mac,
                           EventLog& log)
    : interfaces_(std::move(interfaces)), interface_mac_(interface_mac), log_(log) {}

Status ViaVipProbes::start() {
  if (program_) return ok();
  auto program = dataplane::ProbeEncapProgram::load();
  if (!program) return program.error();
  for (const std::string& ifname : interfaces_)
    if (Status st = program->attach_egress(ifname); !st) return st;
  program_.emplace(std::move(*program));
  log_.info("via_vip_probes", {{"interfaces", std::to_string(interfaces_.size())}});
  return ok();
}

std::optional<health::ProbeTarget> ViaVipProbes::target(const DaemonConfig& config,
                                                        const Pool& pool,
                                                        const PoolBackend& backend,
                                                        std::optional<MacAddress> next_hop) {
  const Vip* vip = nullptr;
  for (const Vip& v : config.vips)
    if (v.pool == pool.name && v.encap == Encap::kGre && v.address.is_v4()) {
      vip = &v;
      break;
    }
  const std::string who = pool.name + "/" + backend.address.to_string();
  if (!vip || !backend.address.is_v4() || !config.node.outer_source_v4) {
    log_.warn("via_vip_direct", {{"backend", who}, {"why", "no GRE/IPv4 VIP serves the pool"}});
    return std::nullopt;
  }
  if (!program_ && !failed_) {
    if (Status st = start(); !st) {
      failed_ = true;
      log_.error("via_vip_unavailable", {{"error", st.error().message}});
    }
  }
  if (!program_) {
    log_.warn("via_vip_direct", {{"backend", who}, {"why", "no probe encapsulator"}});
    return std::nullopt;
  }
  auto [it, fresh] = ids_.emplace(std::pair{pool.name, backend.address}, uint32_t(ids_.size()));
  const uint32_t id = it->second;
  if (id >= RAIL_PROBE_MAX_TARGETS) {
    if (fresh) log_.error("via_vip_direct", {{"backend", who}, {"why", "probe ids exhausted"}});
    return std::nullopt;
  }
  std::optional<dataplane::ProbeEncapTarget> want;
  if (next_hop)
    want = dataplane::ProbeEncapTarget{backend.address, *config.node.outer_source_v4, *next_hop,
                                       config.node.mac.value_or(interface_mac_)};
  auto have = set_.find(id);
  if (have == set_.end() || have->second != want) {
    Status st = want ? program_->set_target(id, *want) : program_->remove_target(id);
    if (st)
      set_[id] = want;
    else
      log_.error("via_vip_target_failed", {{"backend", who}, {"error", st.error().message}});
  }
  return health::ProbeTarget{vip->address, pool.check.port, config.node.outer_source_v4,
                             dataplane::probe_mark(id)};
}

}  // namespace rail::daemon
