// rail_xdp_bench's floor probes (bpf/bench_probe.bpf.c): a probe with a balancer-sized table.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstring>

#include "xdp_bench.h"

namespace rail::xdpbench {

Result<ProbeSkeleton> load_probe() {
  auto probe = ProbeSkeleton::open();
  if (!probe) return probe.error();
  // The floors' table has the balancer's size (the default 1 entry is for other users).
  const uint32_t entries = conn_capacity_for(kWorkingSetLarge);
  if (int err = bpf_map__set_max_entries((*probe)->maps.probe_conntrack, entries))
    return dataplane::libbpf_error("size the probe's connection table", err);
  if (Status loaded = probe->load(); !loaded) return loaded.error();
  return std::move(*probe);
}

namespace {

// The flow of `frame` as the balancer's IPv4 table keys it (untagged, no options: the bench's
// frames).
rail_flow_key4 flow_key_of(const Bytes& frame) {
  rail_flow_key4 key{};
  std::memcpy(&key.src, frame.data() + 26, 4);
  std::memcpy(&key.dst, frame.data() + 30, 4);
  std::memcpy(&key.sport, frame.data() + 34, 2);
  std::memcpy(&key.dport, frame.data() + 36, 2);
  key.proto = frame[23];
  return key;
}

}  // namespace

Status fill_probe(const ProbeSkeleton& probe, uint64_t count,
                  const std::function<Bytes(uint64_t)>& frame) {
  const int fd = bpf_map__fd(probe->maps.probe_conntrack);
  const rail_conn conn{};
  for (uint64_t i = 0; i < count; ++i) {
    const rail_flow_key4 key = flow_key_of(frame(i));
    if (bpf_map_update_elem(fd, &key, &conn, BPF_ANY) != 0)
      return dataplane::errno_error("fill the probe's connection table");
  }
  return ok();
}

}  // namespace rail::xdpbench
