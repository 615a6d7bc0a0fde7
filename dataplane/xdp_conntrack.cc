// The connection tables' user-space side: the IPv6 table's size, and the upgrade from the
// single two-family table of earlier builds (docs/xdp.md "Connection tables").
#include "dataplane/xdp_conntrack.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>
#include <vector>

#include "abi/rail_abi.h"
#include "core/unique_fd.h"
#include "dataplane/libbpf_error.h"

namespace rail::dataplane {
namespace {

constexpr uint32_t kBatch = 4096;

// Writes the entries to a BPF_F_NO_COMMON_LRU table: at most one CPU's share per online CPU,
// each from a thread pinned to that CPU (a user-space insert uses the calling CPU's LRU list:
// one thread writing them all would evict its own earlier inserts once its share is full).
// Returns how many were written.
template <typename Key>
Result<uint64_t> write_spread(int fd, const std::vector<Key>& keys,
                              const std::vector<rail_conn>& values) {
  if (keys.empty()) return uint64_t{0};
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
    return errno_error("inspect the new connection table");
  const int possible = libbpf_num_possible_cpus();
  if (possible <= 0) return libbpf_error("count possible CPUs", possible);
  const size_t share = std::max<size_t>(1, info.max_entries / uint32_t(possible));
  cpu_set_t online;
  if (sched_getaffinity(0, sizeof(online), &online) != 0) return errno_error("read CPU affinity");
  size_t next = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && next < keys.size(); ++cpu) {
    if (!CPU_ISSET(cpu, &online)) continue;
    const size_t begin = next, end = std::min(keys.size(), next + share);
    int err = 0;
    std::thread writer([&] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) != 0) {
        err = EINVAL;
        return;
      }
      for (size_t at = begin; at < end && err == 0; at += kBatch) {
        auto count = uint32_t(std::min<size_t>(kBatch, end - at));
        if (bpf_map_update_batch(fd, &keys[at], &values[at], &count, nullptr) != 0) err = errno;
      }
    });
    writer.join();
    if (err != 0) {
      errno = err;
      return errno_error("copy the old connection table's entries");
    }
    next = end;
  }
  return uint64_t(next);
}

}  // namespace

uint32_t conn6_entries(uint32_t conn_capacity, uint32_t conn6_capacity) {
  return conn6_capacity != 0 ? conn6_capacity : conn_capacity;
}

uint32_t per_cpu_lru_entries(uint32_t entries, uint32_t possible_cpus) {
  if (possible_cpus <= 1) return entries;
  return uint32_t((uint64_t(entries) + possible_cpus - 1) / possible_cpus * possible_cpus);
}

uint64_t conn_refresh_ns(uint64_t tcp_timeout_ns, uint64_t other_timeout_ns) {
  return std::min({uint64_t{1'000'000'000}, tcp_timeout_ns / 2, other_timeout_ns / 2});
}

uint32_t flow_cache_ticks(uint64_t trust_ns, uint64_t refresh_ns, uint64_t tcp_timeout_ns,
                          uint64_t other_timeout_ns) {
  if (trust_ns == 0) return 0;
  const uint64_t window =
      std::min({trust_ns, refresh_ns, tcp_timeout_ns / 2, other_timeout_ns / 2});
  return uint32_t(std::min<uint64_t>(window >> RAIL_FLOW_CACHE_TICK_SHIFT, UINT32_MAX));
}

Result<uint64_t> adopt_legacy_conntrack(const std::string& pin_dir, int v4_fd, int v6_fd) {
  const std::string path = pin_dir + "/rail_conntrack";
  UniqueFd old(bpf_obj_get(path.c_str()));
  if (old.get() < 0) {
    if (errno == ENOENT) return uint64_t{0};
    return errno_error("open pinned " + path);
  }
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(old.get(), &info, &len) != 0)
    return errno_error("inspect pinned " + path);
  uint64_t moved = 0;
  std::vector<rail_flow_key4> keys4;
  std::vector<rail_flow_key> keys6;
  std::vector<rail_conn> values4, values6;
  if (info.key_size == sizeof(rail_flow_key) && info.value_size == sizeof(rail_conn)) {
    std::vector<rail_flow_key> keys(kBatch);
    std::vector<rail_conn> values(kBatch);
    uint32_t in = 0, out = 0;
    bool first = true, done = false;
    while (!done) {
      uint32_t count = kBatch;
      // ENOENT: the last batch (count may still be > 0).
      if (bpf_map_lookup_batch(old.get(), first ? nullptr : &in, &out, keys.data(), values.data(),
                               &count, nullptr) != 0) {
        if (errno != ENOENT) return errno_error("read the old connection table " + path);
        done = true;
      }
      first = false;
      in = out;
      for (uint32_t i = 0; i < count; ++i) {
        const rail_flow_key& k = keys[i];
        if (k.family == RAIL_AF_INET) {
          rail_flow_key4 k4{};
          k4.src = k.src[0];
          k4.dst = k.dst[0];
          k4.sport = k.sport;
          k4.dport = k.dport;
          k4.proto = k.proto;
          keys4.push_back(k4);
          values4.push_back(values[i]);
        } else if (k.family == RAIL_AF_INET6) {
          keys6.push_back(k);
          values6.push_back(values[i]);
        }
      }
    }
    auto moved4 = write_spread(v4_fd, keys4, values4);
    if (!moved4) return moved4.error();
    auto moved6 = write_spread(v6_fd, keys6, values6);
    if (!moved6) return moved6.error();
    moved = *moved4 + *moved6;
  }
  if (unlink(path.c_str()) != 0) return errno_error("remove the old connection table " + path);
  return moved;
}

}  // namespace rail::dataplane
