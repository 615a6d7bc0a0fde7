// DaemonConfig -> LbConfig (health states and next-hop MACs in), VIP health, enum names.
#include "daemon/config/daemon_config.h"

namespace rail::daemon {

const Pool* DaemonConfig::find_pool(const std::string& name) const {
  for (const Pool& p : pools)
    if (p.name == name) return &p;
  return nullptr;
}

namespace {

BackendState state_of(const Pool& pool, const PoolBackend& b, const RuntimeInputs& in) {
  if (pool.check.type == CheckType::kNone) return BackendState::kUp;
  if (in.health) {
    auto it = in.health->find(BackendKey{pool.name, b.address});
    if (it != in.health->end()) return it->second;
  }
  return in.unknown_state;
}

}  // namespace

Result<LbConfig> to_lb_config(const DaemonConfig& config, const RuntimeInputs& inputs) {
  LbConfig lb;
  const NodeConfig& n = config.node;
  lb.node.mac = n.mac ? *n.mac : inputs.interface_mac;
  lb.node.outer_source_v4 = n.outer_source_v4;
  lb.node.outer_source_v6 = n.outer_source_v6;
  lb.node.ingress_addresses = n.ingress_addresses;
  lb.node.mtu = n.mtu;
  lb.node.gue_port = n.gue_port;
  lb.node.icmp_echo = n.icmp_echo;
  lb.node.hash_seed = n.hash_seed;

  for (const Vip& v : config.vips) {
    const Pool* pool = config.find_pool(v.pool);
    if (!pool)  // the loader refuses this; a hand-built config may not have been checked
      return make_error(ErrorCode::kNotFound,
                        "vip \"" + v.name + "\": pool \"" + v.pool + "\" does not exist");
    Service s;
    s.vip = v.address;
    s.protocol = v.protocol;
    s.port = v.port;
    s.encap = v.encap;
    s.hash_fields = hash_fields(v.hash);
    s.table_size = v.table_size;
    for (const PoolBackend& pb : pool->backends) {
      Backend b;
      b.name = pb.name;
      b.address = pb.address;
      b.weight = pb.weight;
      b.state = state_of(*pool, pb, inputs);
      if (inputs.next_hop_mac) {
        if (auto mac = inputs.next_hop_mac(pb.address)) b.next_hop_mac = *mac;
      }
      s.backends.push_back(std::move(b));
    }
    lb.services.push_back(std::move(s));
  }
  if (Status st = lb.validate(); !st) return st.error();
  return lb;
}

std::vector<VipHealth> vip_health(const DaemonConfig& config, const RuntimeInputs& inputs) {
  std::vector<VipHealth> out;
  for (const Vip& v : config.vips) {
    VipHealth h{v.name, 0, v.need};
    if (const Pool* pool = config.find_pool(v.pool)) {
      for (const PoolBackend& b : pool->backends)
        if (b.weight > 0 && state_of(*pool, b, inputs) == BackendState::kUp) ++h.up;
    }
    out.push_back(std::move(h));
  }
  return out;
}

const char* to_string(XdpMode mode) {
  switch (mode) {
    case XdpMode::kAuto:
      return "auto";
    case XdpMode::kNative:
      return "native";
    case XdpMode::kGeneric:
      return "generic";
  }
  return "?";
}

const char* to_string(HashMode mode) {
  switch (mode) {
    case HashMode::kFiveTuple:
      return "5-tuple";
    case HashMode::kThreeTuple:
      return "3-tuple";
    case HashMode::kSourceIp:
      return "source-ip";
  }
  return "?";
}

uint32_t hash_fields(HashMode mode) {
  switch (mode) {
    case HashMode::kFiveTuple:
      return RAIL_HASH_5TUPLE;
    case HashMode::kThreeTuple:
      return RAIL_HASH_3TUPLE;
    case HashMode::kSourceIp:
      return RAIL_HASH_SRC_AFFINITY;
  }
  return RAIL_HASH_5TUPLE;
}

}  // namespace rail::daemon
