// XdpDataPlane::stats(): the per-CPU counters, per-service and per-backend traffic, summed.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "dataplane/libbpf_error.h"
#include "dataplane/xdp_data_plane.h"

namespace rail::dataplane {
namespace {

// Every id in [0, count) of a per-CPU rail_traffic array, summed over CPUs, in ONE syscall
// (stats() of a 1000-backend VIP used to cost a syscall per backend).
Result<std::vector<TrafficCounters>> read_traffic_ids(int fd, uint32_t count) {
  std::vector<TrafficCounters> out(count);
  if (count == 0) return out;
  const int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return libbpf_error("count possible CPUs", ncpus);
  std::vector<uint32_t> keys(count);
  std::vector<rail_traffic> values(size_t(count) * size_t(ncpus));
  uint32_t got = count;
  uint32_t next = 0;
  // Arrays report ENOENT when the batch reaches the map's end: not an error here.
  if (bpf_map_lookup_batch(fd, nullptr, &next, keys.data(), values.data(), &got, nullptr) != 0 &&
      errno != ENOENT) {
    return errno_error("read traffic");
  }
  if (got != count) return make_error(ErrorCode::kSystem, "read traffic: short batch");
  for (uint32_t i = 0; i < count; ++i) {
    TrafficCounters& sum = out[keys[i]];
    for (int cpu = 0; cpu < ncpus; ++cpu) {
      const rail_traffic& t = values[size_t(i) * size_t(ncpus) + size_t(cpu)];
      sum.packets += t.packets;
      sum.bytes += t.bytes;
      sum.new_flows += t.new_flows;
    }
  }
  return out;
}

}  // namespace

Result<DataPlaneStats> XdpDataPlane::stats() const {
  DataPlaneStats out;
  const int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return libbpf_error("count possible CPUs", ncpus);
  // One entry holding every counter (struct rail_counter_block), one copy per possible CPU.
  std::vector<rail_counter_block> per_cpu(static_cast<size_t>(ncpus));
  const uint32_t zero = 0;
  if (bpf_map_lookup_elem(map_fd("rail_counters"), &zero, per_cpu.data()) != 0) {
    return errno_error("read counters");
  }
  for (const rail_counter_block& block : per_cpu) {
    for (uint32_t i = 0; i < RAIL_CNT_MAX; ++i) out.counters[i] += block.count[i];
  }
  uint32_t slots = 0;
  for (uint32_t slot : applied_slots_) slots = std::max(slots, slot + 1);
  auto services = read_traffic_ids(map_fd("rail_service_stats"), slots);
  if (!services) return services.error();
  for (uint32_t slot : applied_slots_) out.services.push_back((*services)[slot]);
  uint32_t ids_end = 0;
  for (const auto& ids : applied_backends_)
    for (uint32_t id : ids) ids_end = std::max(ids_end, id + 1);
  auto backends = read_traffic_ids(map_fd("rail_backend_stats"), ids_end);
  if (!backends) return backends.error();
  for (const auto& ids : applied_backends_) {
    out.backends.emplace_back();
    for (uint32_t id : ids) out.backends.back().push_back((*backends)[id]);
  }
  return out;
}

}  // namespace rail::dataplane
