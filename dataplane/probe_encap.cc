// ProbeEncapProgram: the probe_encap skeleton's life cycle, target map updates, counters.
#include "dataplane/probe_encap.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstring>

#include "dataplane/libbpf_error.h"
#include "dataplane/skeleton.h"
#include "probe_encap.skel.h"

namespace rail::dataplane {

RAIL_BPF_SKELETON_TRAITS(probe_encap_bpf);

struct ProbeEncapProgram::Owner {
  BpfSkeleton<probe_encap_bpf_traits> skel;
};

Result<ProbeEncapProgram> ProbeEncapProgram::load() {
  auto skel = BpfSkeleton<probe_encap_bpf_traits>::open();
  if (!skel) return skel.error();
  RAIL_TRY(skel->load());
  return ProbeEncapProgram(std::make_unique<Owner>(Owner{std::move(*skel)}));
}

ProbeEncapProgram::ProbeEncapProgram(std::unique_ptr<Owner> owner) : owner_(std::move(owner)) {}
ProbeEncapProgram::ProbeEncapProgram(ProbeEncapProgram&&) noexcept = default;
ProbeEncapProgram& ProbeEncapProgram::operator=(ProbeEncapProgram&&) noexcept = default;
ProbeEncapProgram::~ProbeEncapProgram() {
  tc_.clear();
}

Status ProbeEncapProgram::set_target(uint32_t id, const ProbeEncapTarget& target) {
  if (id >= RAIL_PROBE_MAX_TARGETS)
    return make_error(ErrorCode::kOutOfRange, "probe id " + std::to_string(id) +
                                                  " >= " + std::to_string(RAIL_PROBE_MAX_TARGETS));
  if (!target.backend.is_v4() || !target.source.is_v4())
    return make_error(ErrorCode::kInvalidArgument,
                      "via-VIP probes are encapsulated over IPv4 only (backend " +
                          target.backend.to_string() + ", source " + target.source.to_string() +
                          ")");
  rail_probe_target value{};
  std::memcpy(&value.backend4, target.backend.data(), 4);
  std::memcpy(&value.source4, target.source.data(), 4);
  std::memcpy(value.dst_mac, target.next_hop.bytes().data(), 6);
  std::memcpy(value.src_mac, target.interface_mac.bytes().data(), 6);
  const uint32_t mark = probe_mark(id);
  if (bpf_map_update_elem(bpf_map__fd(owner_->skel->maps.probe_targets), &mark, &value, BPF_ANY))
    return errno_error("probe target " + std::to_string(id));
  return ok();
}

Status ProbeEncapProgram::remove_target(uint32_t id) {
  const uint32_t mark = probe_mark(id);
  if (bpf_map_delete_elem(bpf_map__fd(owner_->skel->maps.probe_targets), &mark) && errno != ENOENT)
    return errno_error("remove probe target " + std::to_string(id));
  return ok();
}

Status ProbeEncapProgram::attach_egress(const std::string& ifname) {
  auto a = TcAttachment::attach(ifname, prog_fd(), TcDirection::kEgress);
  if (!a) return a.error();
  tc_.push_back(std::move(*a));
  return ok();
}

int ProbeEncapProgram::prog_fd() const {
  return bpf_program__fd(owner_->skel->progs.rail_probe_encap);
}

Result<ProbeEncapStats> ProbeEncapProgram::stats() const {
  const int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return libbpf_error("count possible CPUs", ncpus);
  std::vector<rail_probe_counter> per_cpu(static_cast<size_t>(ncpus));
  ProbeEncapStats out;
  for (uint32_t i = 0; i < RAIL_PROBE_STAT_MAX; ++i) {
    if (bpf_map_lookup_elem(bpf_map__fd(owner_->skel->maps.probe_encap_stats), &i, per_cpu.data()))
      return errno_error("read probe counters");
    for (const auto& c : per_cpu) out.packets[i] += c.packets;
  }
  return out;
}

}  // namespace rail::dataplane
