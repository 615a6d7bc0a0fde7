// The balancer's connection tables as user space sees them: one per family (rail_conntrack4,
// rail_conntrack6, abi/rail_abi.h), and the upgrade from the single table of earlier builds.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace rail::dataplane {

// Entries of the IPv6 table for `conn6_capacity` (0: a quarter of the IPv4 table's).
uint32_t conn6_entries(uint32_t conn_capacity, uint32_t conn6_capacity);

// Builds before the per-family tables pinned one `<pin_dir>/rail_conntrack` (rail_flow_key ->
// rail_conn) for both families. If it is there, its entries are copied into the IPv4 and IPv6
// tables `v4_fd` / `v6_fd` (established flows keep their backends across the upgrade), and
// the pin is removed. A table of another value layout is only removed. Returns the number of
// entries moved.
Result<uint64_t> adopt_legacy_conntrack(const std::string& pin_dir, int v4_fd, int v6_fd);

}  // namespace rail::dataplane
