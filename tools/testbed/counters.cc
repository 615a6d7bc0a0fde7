// Reading data-plane counters straight from the kernel: Rail's XDP counters on a node (the
// map of the program attached to its eth0) and the router's GRE encapsulator.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "core/unique_fd.h"
#include "rail_abi.h"
#include "tools/testbed/testbed_impl.h"

namespace rail::testbed {

namespace {

Error bpf_error(const std::string& what, int err) {
  return make_error(ErrorCode::kSystem, what + ": " + std::strerror(err < 0 ? -err : err));
}

// The sum over CPUs of counter `index` in the rail_counters map of the XDP program on eth0
// (called in the node's namespace).
Result<uint64_t> read_xdp_counter(uint32_t index) {
  const unsigned ifindex = if_nametoindex(kFabricIf);
  if (ifindex == 0) return make_error(ErrorCode::kNotFound, "no eth0");
  __u32 prog_id = 0;
  if (int err = bpf_xdp_query_id(int(ifindex), 0, &prog_id); err != 0 || prog_id == 0)
    return make_error(ErrorCode::kNotFound, "no XDP program on eth0");
  UniqueFd prog(bpf_prog_get_fd_by_id(prog_id));
  if (prog.get() < 0) return bpf_error("prog id " + std::to_string(prog_id), errno);
  std::vector<__u32> map_ids(64);
  bpf_prog_info info{};
  info.nr_map_ids = __u32(map_ids.size());
  info.map_ids = reinterpret_cast<__u64>(map_ids.data());
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(prog.get(), &info, &len) != 0) return bpf_error("prog info", errno);
  for (__u32 n = 0; n < info.nr_map_ids && n < map_ids.size(); ++n) {
    UniqueFd map(bpf_map_get_fd_by_id(map_ids[n]));
    if (map.get() < 0) continue;
    bpf_map_info m{};
    __u32 mlen = sizeof(m);
    if (bpf_obj_get_info_by_fd(map.get(), &m, &mlen) != 0) continue;
    if (std::strcmp(m.name, "rail_counters") != 0) continue;
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return bpf_error("possible cpus", cpus);
    std::vector<rail_counter_block> blocks(static_cast<size_t>(cpus));
    __u32 zero = 0;
    if (bpf_map_lookup_elem(map.get(), &zero, blocks.data()) != 0)
      return bpf_error("rail_counters lookup", errno);
    uint64_t sum = 0;
    for (const auto& b : blocks) sum += b.count[index];
    return sum;
  }
  return make_error(ErrorCode::kNotFound, "the XDP program on eth0 has no rail_counters map");
}

}  // namespace

Result<uint64_t> Testbed::rail_counter(int node, uint32_t index) const {
  if (impl_->topo.balancer != Balancer::kRail)
    return make_error(ErrorCode::kUnsupported, "Rail counters need balancer: rail");
  if (node < 1 || node > impl_->topo.rail_nodes || index >= RAIL_CNT_MAX)
    return make_error(ErrorCode::kOutOfRange,
                      "no node " + std::to_string(node) + " or counter " + std::to_string(index));
  uint64_t value = 0;
  Status st = impl_->run_in(node_role(node), [&]() -> Status {
    auto v = read_xdp_counter(index);
    if (!v) return v.error();
    value = *v;
    return ok();
  });
  if (!st) return make_error(st.error().code, node_role(node) + ": " + st.error().message);
  return value;
}

Result<uint64_t> Testbed::router_gre_packets() const {
#ifdef RAIL_TESTBED_HAS_GRE
  if (!impl_->router_encap)
    return make_error(ErrorCode::kUnsupported, "the router encapsulates only with ingress: gre");
  auto c = impl_->router_encap->counters();
  if (!c) return c.error();
  return c->encapsulated.packets;
#else
  return make_error(ErrorCode::kUnsupported, "this build has no router GRE encapsulator");
#endif
}

}  // namespace rail::testbed
