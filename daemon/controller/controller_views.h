// Read-only pictures of the running balancer for the API, railctl and /metrics.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "abi/rail_abi.h"
#include "core/forwarder/forwarder.h"
#include "daemon/config/daemon_config.h"

namespace rail::daemon {

struct BackendView {
  std::string pool;
  PoolBackend config;             // address, configured weight, name
  uint32_t effective_weight = 0;  // 0 while drained
  bool drained = false;
  std::optional<BackendState> forced;        // kUp / kDown set through the API
  std::optional<BackendState> health;        // last check verdict; nullopt: `type: none` or unknown
  bool checked = false;                      // the pool has a health check
  BackendState state = BackendState::kDown;  // what the data plane was given
  bool next_hop_resolved = false;
  // From the health checker (checked pools only).
  double check_latency_seconds = 0;
  std::string last_check;
  uint64_t checks = 0;
  TrafficCounters traffic;
};

struct VipView {
  Vip config;
  uint32_t up = 0;  // backends up with weight > 0
  bool healthy() const { return up >= config.need; }
  uint64_t table_rebuilds = 0;
  TrafficCounters traffic;
  std::vector<BackendView> backends;
};

struct NodeView {
  std::array<uint64_t, RAIL_CNT_MAX> counters{};  // data plane counters [enum rail_counter]
  uint64_t table_rebuilds = 0;                    // over every VIP since start
  uint64_t changes = 0;                           // configs applied since start
  uint64_t refused_changes = 0;
  uint64_t persist_errors = 0;
  // From the start of the last change to its data plane apply returning. The state files are
  // written afterwards on the persister thread: a change is answered once applied, and is on
  // disk shortly after (docs/raild.md "STATE").
  double last_apply_seconds = 0;
  std::string data_plane;
};

const char* backend_state_name(BackendState state);  // "up", "drained", "down"

}  // namespace rail::daemon
