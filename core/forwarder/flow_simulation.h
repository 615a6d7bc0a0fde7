// FlowSimulation: what happens to established flows when backends change, measured by pushing
// real packets through the reference forwarder (the lost-connection question of the xcluster
// load-balancer tests, without a network).
//
// F flows (TCP, random clients in 198.18.0.0/15) open to one VIP with N backends; then K
// backends fail (or K are added) and every flow sends one more packet. A flow is "moved" if
// that packet reaches another backend than its SYN did. With the connection table only flows
// on failed backends move; a stateless Maglev balancer (no table) moves a few % more.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace rail {

struct FlowSimulationSpec {
  uint32_t backends = 10;       // N, named 198.18.2.1 ...
  uint32_t flows = 1000;        // F
  uint32_t fail = 0;            // K backends that go down (the first K of a seeded shuffle)
  uint32_t add = 0;             // K backends added (198.18.2.N+1 ...)
  uint32_t table_size = 65537;  // Maglev M (prime)
  uint64_t seed = 1;
};

struct FlowSimulationReport {
  std::vector<std::string> backend_names;     // in configuration order
  std::vector<uint32_t> flows_before;         // per backend, after the SYNs
  std::vector<std::string> changed_backends;  // the failed or added ones
  uint32_t flows_on_failed = 0;               // flows whose backend failed
  uint32_t moved_with_table = 0;              // flows that moved, connection table on
  uint32_t moved_on_healthy = 0;              // of those, flows whose backend stayed up
  uint32_t moved_stateless = 0;               // flows that moved without a connection table
  uint32_t packets = 0;                       // frames pushed through the forwarder
};

// Errors: kInvalidArgument for N = 0, K >= N on failure, a non-prime M.
Result<FlowSimulationReport> simulate_flows(const FlowSimulationSpec& spec);

}  // namespace rail
