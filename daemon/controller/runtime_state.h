// RuntimeState: what raild knows beyond the config file: operator overrides made through the
// API (drained, forced up/down) and the last health state of every checked backend.
//
// Persisted next to the state file as `<state_file>.runtime.json` (atomically, like the state
// file) so that a restarted raild starts with the same overrides and seeds its health checks
// with the last known states: adopting the pinned data plane, it then keeps the same Maglev
// tables instead of taking every backend down until checks pass again.
#pragma once

#include <map>
#include <set>
#include <string>

#include "core/result.h"
#include "daemon/config/daemon_config.h"

namespace rail::daemon {

struct RuntimeState {
  std::set<BackendKey> drained;               // weight 0 in effect; undrain restores the weight
  std::map<BackendKey, BackendState> forced;  // kUp or kDown, regardless of health checks
  HealthStates health;                        // last check verdicts (kUp / kDown)
  bool operator==(const RuntimeState&) const = default;
};

std::string runtime_state_path(const std::string& state_file);
std::string to_json(const RuntimeState& state);
Result<RuntimeState> parse_runtime_state(const std::string& text);
Status save_runtime_state(const std::string& path, const RuntimeState& state);
// kNotFound when the file does not exist (first start).
Result<RuntimeState> load_runtime_state(const std::string& path);

// Drops entries of backends that `config` no longer has (after a reload or removal).
void prune(RuntimeState& state, const DaemonConfig& config);

}  // namespace rail::daemon
