// Controller: raild's single source of truth. Owns the running DaemonConfig, the runtime
// overrides and health states, and applies every change to the data plane atomically.
//
// Every change (reload, API edit, health transition, next-hop change) builds the complete
// candidate state, translates it with to_lb_config(), applies it to the DataPlane, and only
// if that succeeded makes it the running state, then hands it to the StatePersister, which
// writes the state files on its own thread (a change is answered once applied, not once on
// disk). A refused change leaves everything as it was and returns every problem. One mutex
// serialises changes, so the data plane always holds the config of exactly one committed
// state. See docs/raild.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/daemon_config.h"
#include "daemon/controller/controller_views.h"
#include "daemon/controller/event_log.h"
#include "daemon/controller/next_hop_resolver.h"
#include "daemon/controller/runtime_state.h"
#include "daemon/controller/state_persister.h"
#include "daemon/health/health_checker.h"
#include "dataplane/data_plane.h"

namespace rail::daemon {

struct ControllerOptions {
  std::string config_path;  // what reload() reads
  bool persist = true;      // save the state file (+ .runtime.json) after every change
  std::chrono::milliseconds persist_retry{1000};  // after a failed write of the state files
  // Changes in a burst are written together: the state files lag the applied state by at most
  // this (plus one write) while changes keep coming; flush_state() and exit write at once.
  std::chrono::milliseconds persist_interval{50};
  bool health_checks = true;  // run the HealthChecker (tests may drive set_health instead)
  health::HealthChecker::Options health;
  BackendState unknown_state = BackendState::kDown;  // checked backend never checked yet
  MacAddress interface_mac;                          // node.mac when the config says "auto"
  // Via-VIP checks (check.via_vip): the probe target of a backend of a pool, called on every
  // change (under the controller's lock, so quick); nullopt or unset = probe it directly.
  // raild's targets connect to the VIP with a per-backend SO_MARK (docs/health-checks.md).
  // `next_hop` is the backend's resolved next-hop MAC (nullopt until resolved).
  std::function<std::optional<health::ProbeTarget>(
      const DaemonConfig&, const Pool&, const PoolBackend&, std::optional<MacAddress> next_hop)>
      via_vip_probe;
};

class Controller {
 public:
  // Applies `config` with `runtime` (overrides and last health states, e.g. loaded from the
  // runtime file) and starts health checks. The references must outlive the controller.
  static Result<std::unique_ptr<Controller>> create(DaemonConfig config, RuntimeState runtime,
                                                    dataplane::DataPlane& data_plane,
                                                    NextHopResolver& resolver, EventLog& log,
                                                    ControllerOptions options);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Reload from options.config_path / from a parsed config. API edits are replaced by the
  // file; drained/forced overrides of backends still present are kept.
  Status reload();
  Status reload(DaemonConfig candidate);

  Status add_vip(std::string_view document);  // a VIP in the config's shape (YAML/JSON)
  Status remove_vip(const std::string& name);
  Status add_backend(const std::string& pool, std::string_view document);
  Status remove_backend(const std::string& pool, const IpAddress& address);
  Status set_weight(const std::string& pool, const IpAddress& address, uint32_t weight);
  Status set_drained(const std::string& pool, const IpAddress& address, bool drained);
  // kUp / kDown: force; nullopt: back to health checks.
  Status force(const std::string& pool, const IpAddress& address,
               std::optional<BackendState> state);

  // A health verdict (the HealthChecker's callback lands here).
  void set_health(const BackendKey& key, BackendState state, const std::string& reason);
  // Passive detection: an ICMP destination unreachable from `address`. Triggers an immediate
  // check of every checked backend with that address; returns how many.
  size_t report_unreachable(const IpAddress& address);
  // Re-resolves every backend's next hop; applies a new config only if a MAC changed.
  Status refresh_next_hops();

  std::vector<VipView> vips() const;
  Result<VipView> vip(const std::string& name) const;
  NodeView node() const;
  // node().last_apply_seconds without reading the data plane's counters.
  double last_apply_seconds() const;
  DaemonConfig config() const;
  RuntimeState runtime() const;
  // Waits until the state files hold every change applied so far (or their write failed:
  // that error). The destructor does the same; ok() when persistence is off.
  Status flush_state();

 private:
  struct State {
    DaemonConfig config;
    RuntimeState runtime;
    std::map<IpAddress, MacAddress> macs;  // resolved next hops
  };
  struct Target {
    BackendKey key;
    health::ProbeTarget probe;
    health::HealthCheckSpec spec;
  };

  Controller(dataplane::DataPlane& data_plane, NextHopResolver& resolver, EventLog& log,
             ControllerOptions options);
  // The change protocol (caller holds mu_): translate, apply, count, commit, persist.
  Status commit(State next, std::string_view event, bool config_changed);
  Result<LbConfig> translate(const State& state) const;
  void resolve_missing(State& state);
  void sync_health_targets();  // caller holds mu_
  void persist(bool config_changed);
  Status edit(Result<DaemonConfig> candidate, std::string_view event);
  Result<BackendKey> existing(const std::string& pool, const IpAddress& address) const;
  VipView view_of(size_t vip_index, const dataplane::DataPlaneStats* stats) const;

  dataplane::DataPlane& data_plane_;
  NextHopResolver& resolver_;
  EventLog& log_;
  ControllerOptions options_;
  std::unique_ptr<health::HealthChecker> checker_;
  std::unique_ptr<StatePersister> persister_;  // null when options_.persist is false

  mutable std::mutex mu_;
  State state_;
  LbConfig applied_;
  std::map<std::string, Target> targets_;     // health checker id -> backend
  std::map<std::string, uint64_t> rebuilds_;  // per VIP name
  uint64_t rebuilds_total_ = 0;
  uint64_t changes_ = 0;
  uint64_t refused_ = 0;
  std::atomic<uint64_t> persist_errors_ = 0;  // counted on the persister thread
  double last_apply_seconds_ = 0;
};

// The config's check as the health engine's spec.
health::HealthCheckSpec to_health_spec(const HealthCheck& check);

}  // namespace rail::daemon
