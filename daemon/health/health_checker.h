// HealthChecker: runs every registered target's check at its interval, concurrently, and
// reports up/down transitions (rise/fall) through a callback.
//
// Design (docs/health-checks.md): one scheduler thread keeps each target's next due time and
// hands due checks to an elastic pool of worker threads that run the blocking-with-deadline
// probes. A hanging backend holds one worker for at most its timeout; other targets are picked
// up by other workers (the pool grows on demand up to Options::max_workers). One check per
// target is in flight at a time, so a target's results and callbacks are strictly ordered.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/lb_config.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "daemon/health/check_timing.h"
#include "daemon/health/health_spec.h"
#include "daemon/health/rise_fall.h"

namespace rail::health {

using WallClock = std::chrono::system_clock;

// One up/down transition of a target.
struct StateChange {
  std::string id;
  BackendState state = BackendState::kDown;  // kUp or kDown
  std::string reason;                        // detail of the check that completed the streak
  WallClock::time_point time;
};

// A target's current picture, for the API and metrics.
struct TargetStatus {
  BackendState state = BackendState::kDown;
  bool last_ok = false;
  Millis last_latency{0};  // of the last completed check (check latency metric)
  std::string last_detail;
  uint64_t checks = 0;     // completed checks since add()
  uint32_t successes = 0;  // current streaks
  uint32_t failures = 0;
  std::optional<WallClock::time_point> last_check;
};

class HealthChecker {
 public:
  struct Options {
    size_t max_workers = 64;  // probes running at once at most; threads are started on demand
    double jitter = 0.1;      // +-fraction of the interval (clamped to 0..0.5); 0 in some tests
    // trigger() right after a check waits until this long after that check started, so a
    // storm of ICMP errors cannot turn into a storm of probes.
    Millis trigger_min_gap{200};
    int netns_fd = -1;  // probe from this network namespace (dup'ed; workers setns into it)
    std::function<WallClock::time_point()> wall_clock = [] { return WallClock::now(); };
    uint64_t seed = 0;  // jitter randomness; 0 = from std::random_device
  };
  // Called on a worker thread, outside the engine's lock, once per transition; calls for one
  // target never overlap and arrive in order. It may call add/remove/trigger/status, but not
  // stop(), and should return quickly (it holds a worker).
  using Callback = std::function<void(const StateChange&)>;

  static Result<std::unique_ptr<HealthChecker>> create(Options options, Callback on_change);
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;
  ~HealthChecker();

  // Registers a target; its first check runs within jitter * interval. `initial` is the state
  // before any check completes (kDown = no traffic until `rise` successes; the daemon passes
  // the last known state on restart). Errors: invalid spec, duplicate id, stopped engine.
  Status add(const std::string& id, const ProbeTarget& target, const HealthCheckSpec& spec,
             BackendState initial = BackendState::kDown);
  // Config reload of an existing target: keeps its state, restarts its streaks; a check in
  // flight under the old settings is discarded.
  Status update(const std::string& id, const ProbeTarget& target, const HealthCheckSpec& spec);
  Status remove(const std::string& id);
  // Check now (passive detection, e.g. an ICMP unreachable from the backend). If a check is in
  // flight, another runs as soon as it completes. Counts toward rise/fall like any check.
  Status trigger(const std::string& id);

  Result<TargetStatus> status(const std::string& id) const;
  std::vector<std::string> ids() const;
  size_t worker_count() const;

  // Cancels probes in flight (they poll a shutdown eventfd), joins every thread, and returns;
  // no callback runs after it. Idempotent; also done by the destructor.
  void stop();

 private:
  struct Target;
  struct Job;
  HealthChecker(Options options, Callback on_change, UniqueFd cancel, UniqueFd netns);

  void scheduler_loop();
  void worker_loop();
  void dispatch(Target& target, TimePoint now);  // caller holds mu_
  // Records a finished check (caller holds mu_); the transition to report, if any.
  std::optional<StateChange> complete(const Job& job, Result<ProbeOutcome> result, TimePoint end);
  Status start_worker();  // caller holds mu_

  Options options_;
  Callback on_change_;
  UniqueFd cancel_;  // eventfd: readable once stop() begins
  UniqueFd netns_;

  mutable std::mutex mu_;
  std::condition_variable scheduler_cv_;  // targets changed, a check completed, or stop
  std::condition_variable worker_cv_;     // a job was queued, or stop
  std::map<std::string, std::unique_ptr<Target>> targets_;
  std::deque<Job> queue_;
  size_t idle_workers_ = 0;
  uint64_t next_generation_ = 1;
  bool stopping_ = false;
  std::mt19937_64 rng_;
  std::thread scheduler_;
  std::vector<std::thread> workers_;
  std::mutex stop_mu_;  // serializes stop() callers
};

}  // namespace rail::health
