// The balancer's connection tables as user space sees them: one per family (rail_conntrack4,
// rail_conntrack6, abi/rail_abi.h), and the upgrade from the single table of earlier builds.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace rail::dataplane {

// Entries of the IPv6 table for `conn6_capacity` (0: as many as the IPv4 table's).
uint32_t conn6_entries(uint32_t conn_capacity, uint32_t conn6_capacity);

// `entries` rounded up to a multiple of `possible_cpus`: the kernel does that to the size of
// a BPF_F_NO_COMMON_LRU table (each CPU owns max_entries / CPUs), and libbpf reuses a pinned
// map only if its size equals the one asked for, so asking for anything else would make the
// next start refuse the pin on a host whose CPU count does not divide it.
uint32_t per_cpu_lru_entries(uint32_t entries, uint32_t possible_cpus);

// How old a connection entry's last_seen may get before a hit rewrites it (the rodata
// lb_conn_refresh_ns): 1 s, but at most half the shortest idle timeout, so the entry of a flow
// with packets never expires whatever the timeouts.
uint64_t conn_refresh_ns(uint64_t tcp_timeout_ns, uint64_t other_timeout_ns);

// The flow cache's trust window in ticks of RAIL_FLOW_CACHE_TICK_SHIFT ns (the rodata
// lb_flow_cache_ticks; 0 = cache off): `trust_ns`, but at most `refresh_ns` (how often a hit
// refreshes its table entry) and half the shortest idle timeout, so a flow served from the
// cache looks its table entry up again long before that entry could expire. Whole ticks,
// rounded down (a slot is used while fewer than this many tick boundaries passed since its
// entry's last_seen: under ticks << RAIL_FLOW_CACHE_TICK_SHIFT ns); 0 (off) when that is under
// one tick. docs/xdp.md "Flow cache".
uint32_t flow_cache_ticks(uint64_t trust_ns, uint64_t refresh_ns, uint64_t tcp_timeout_ns,
                          uint64_t other_timeout_ns);

// Builds before the per-family tables pinned one `<pin_dir>/rail_conntrack` (rail_flow_key ->
// rail_conn) for both families. If it is there, its entries are copied into the IPv4 and IPv6
// tables `v4_fd` / `v6_fd` (established flows keep their backends across the upgrade), and
// the pin is removed. A table of another value layout is only removed. Returns the number of
// entries moved: an insert from user space takes a free entry of the calling CPU's share
// (max_entries / possible CPUs) and evicts within it, so the copy writes each share from a
// thread on that CPU; what does not fit the online CPUs' shares is not moved.
Result<uint64_t> adopt_legacy_conntrack(const std::string& pin_dir, int v4_fd, int v6_fd);

}  // namespace rail::dataplane
