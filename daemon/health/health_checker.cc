// HealthChecker: scheduler thread, elastic worker pool, rise/fall bookkeeping, callbacks.
#include "daemon/health/health_checker.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "daemon/health/probes.h"

namespace rail::health {

struct HealthChecker::Target {
  std::string id;
  ProbeTarget probe;
  HealthCheckSpec spec;
  RiseFall rise_fall;
  uint64_t generation = 0;  // bumped by update(): results of older checks are discarded
  TimePoint next_due{};
  std::optional<TimePoint> last_start;
  bool in_flight = false;
  bool trigger_pending = false;
  TargetStatus status;
};

struct HealthChecker::Job {
  std::string id;
  uint64_t generation = 0;
  ProbeTarget probe;
  HealthCheckSpec spec;
  TimePoint start{};
};

namespace {

Error system_error_of(const std::string& what, int err) {
  return make_error(err == EPERM ? ErrorCode::kPermission : ErrorCode::kSystem,
                    what + ": " + std::strerror(err));
}

Error not_found(const std::string& id) {
  return make_error(ErrorCode::kNotFound, "health check target '" + id + "' is not registered");
}

// The engine rejects an unusable namespace at create() rather than failing every probe later.
Status check_netns(int fd) {
  int err = 0;
  try {
    std::thread probe([&] { err = setns(fd, CLONE_NEWNET) == 0 ? 0 : errno; });
    probe.join();
  } catch (const std::system_error& e) {
    return make_error(ErrorCode::kSystem, std::string("thread: ") + e.what());
  }
  if (err != 0) return system_error_of("setns into the probe network namespace", err);
  return ok();
}

}  // namespace

Result<std::unique_ptr<HealthChecker>> HealthChecker::create(Options options, Callback on_change) {
  UniqueFd cancel(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!cancel.valid()) return system_error_of("eventfd", errno);
  UniqueFd netns;
  if (options.netns_fd >= 0) {
    netns.reset(fcntl(options.netns_fd, F_DUPFD_CLOEXEC, 0));
    if (!netns.valid()) return system_error_of("dup network namespace fd", errno);
    RAIL_TRY(check_netns(netns.get()));
  }
  std::unique_ptr<HealthChecker> checker(new HealthChecker(std::move(options), std::move(on_change),
                                                           std::move(cancel), std::move(netns)));
  try {
    checker->scheduler_ = std::thread(&HealthChecker::scheduler_loop, checker.get());
  } catch (const std::system_error& e) {
    return make_error(ErrorCode::kSystem, std::string("health scheduler thread: ") + e.what());
  }
  return checker;
}

HealthChecker::HealthChecker(Options options, Callback on_change, UniqueFd cancel, UniqueFd netns)
    : options_(std::move(options)),
      on_change_(std::move(on_change)),
      cancel_(std::move(cancel)),
      netns_(std::move(netns)),
      rng_(options_.seed != 0 ? options_.seed : std::random_device{}()) {
  options_.max_workers = std::max<size_t>(options_.max_workers, 1);
}

HealthChecker::~HealthChecker() {
  stop();
}

Status HealthChecker::add(const std::string& id, const ProbeTarget& target,
                          const HealthCheckSpec& spec, BackendState initial) {
  if (auto valid = spec.validate(); !valid) {
    return make_error(valid.error().code, "target '" + id + "': " + valid.error().message);
  }
  std::lock_guard lock(mu_);
  if (stopping_) return make_error(ErrorCode::kUnsupported, "health checker is stopped");
  if (targets_.count(id)) {
    return make_error(ErrorCode::kAlreadyExists, "health check target '" + id + "' exists");
  }
  auto entry = std::make_unique<Target>(Target{id,
                                               target,
                                               spec,
                                               RiseFall(spec.rise, spec.fall, initial),
                                               next_generation_++,
                                               {},
                                               {},
                                               false,
                                               false,
                                               TargetStatus{}});
  entry->status.state = entry->rise_fall.state();
  entry->next_due = first_check_time(SteadyClock::now(), spec.interval, options_.jitter, rng_);
  targets_.emplace(id, std::move(entry));
  scheduler_cv_.notify_one();
  return ok();
}

Status HealthChecker::update(const std::string& id, const ProbeTarget& target,
                             const HealthCheckSpec& spec) {
  if (auto valid = spec.validate(); !valid) {
    return make_error(valid.error().code, "target '" + id + "': " + valid.error().message);
  }
  std::lock_guard lock(mu_);
  auto it = targets_.find(id);
  if (it == targets_.end()) return not_found(id);
  Target& t = *it->second;
  t.probe = target;
  t.spec = spec;
  t.rise_fall.set_thresholds(spec.rise, spec.fall);
  // A check in flight keeps running but its result no longer matches this generation; the
  // target may be probed again at once under the new settings.
  t.generation = next_generation_++;
  t.in_flight = false;
  t.trigger_pending = false;
  t.next_due = first_check_time(SteadyClock::now(), spec.interval, options_.jitter, rng_);
  scheduler_cv_.notify_one();
  return ok();
}

Status HealthChecker::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  if (targets_.erase(id) == 0) return not_found(id);
  return ok();
}

Status HealthChecker::trigger(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = targets_.find(id);
  if (it == targets_.end()) return not_found(id);
  Target& t = *it->second;
  if (t.in_flight) {
    t.trigger_pending = true;
    return ok();
  }
  TimePoint when = SteadyClock::now();
  if (t.last_start) when = std::max(when, *t.last_start + options_.trigger_min_gap);
  t.next_due = std::min(t.next_due, when);
  scheduler_cv_.notify_one();
  return ok();
}

Result<TargetStatus> HealthChecker::status(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = targets_.find(id);
  if (it == targets_.end()) return not_found(id);
  const Target& t = *it->second;
  TargetStatus status = t.status;
  status.state = t.rise_fall.state();
  status.successes = t.rise_fall.successes();
  status.failures = t.rise_fall.failures();
  return status;
}

std::vector<std::string> HealthChecker::ids() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, target] : targets_) out.push_back(id);
  return out;
}

size_t HealthChecker::worker_count() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

void HealthChecker::stop() {
  std::lock_guard stop_lock(stop_mu_);
  {
    std::lock_guard lock(mu_);
    for (const auto& worker : workers_) {
      assert(worker.get_id() != std::this_thread::get_id() && "stop() from a callback");
      (void)worker;
    }
    stopping_ = true;
  }
  uint64_t one = 1;
  // Wakes every probe's poll(); a failed write only means it is already readable.
  [[maybe_unused]] ssize_t n = ::write(cancel_.get(), &one, sizeof(one));
  scheduler_cv_.notify_all();
  worker_cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  // Only the scheduler starts workers, so the list is final once it has exited.
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

void HealthChecker::scheduler_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    TimePoint now = SteadyClock::now();
    TimePoint wake = TimePoint::max();
    // A linear scan per wake-up: fine for thousands of targets at second-scale intervals.
    for (auto& [id, target] : targets_) {
      if (target->in_flight) continue;
      if (target->next_due <= now) {
        dispatch(*target, now);
      } else {
        wake = std::min(wake, target->next_due);
      }
    }
    if (wake == TimePoint::max()) {
      scheduler_cv_.wait(lock);
    } else {
      scheduler_cv_.wait_until(lock, wake);
    }
  }
}

void HealthChecker::dispatch(Target& target, TimePoint now) {
  target.in_flight = true;
  target.trigger_pending = false;
  target.last_start = now;
  queue_.push_back(Job{target.id, target.generation, target.probe, target.spec, now});
  if (idle_workers_ < queue_.size() && workers_.size() < options_.max_workers) {
    // On failure the job waits for a busy worker; the next dispatch tries again.
    (void)start_worker();
  }
  worker_cv_.notify_one();
}

Status HealthChecker::start_worker() {
  try {
    workers_.emplace_back(&HealthChecker::worker_loop, this);
  } catch (const std::system_error& e) {
    return make_error(ErrorCode::kSystem, std::string("health worker thread: ") + e.what());
  }
  return ok();
}

void HealthChecker::worker_loop() {
  std::string netns_error;
  // Only this thread changes namespace: sockets it creates live in the probe namespace.
  if (netns_.valid() && setns(netns_.get(), CLONE_NEWNET) != 0) {
    netns_error = std::string("setns: ") + std::strerror(errno);
  }
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_workers_;
    worker_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    --idle_workers_;
    if (stopping_) return;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Result<ProbeOutcome> result =
        netns_error.empty() ? run_probe(job.probe, job.spec, cancel_.get())
                            : Result<ProbeOutcome>(make_error(ErrorCode::kSystem, netns_error));
    TimePoint end = SteadyClock::now();
    lock.lock();
    std::optional<StateChange> change = complete(job, std::move(result), end);
    if (change) {
      // Outside the lock so the callback may call back into the engine; the target stays
      // in flight meanwhile, which keeps its callbacks ordered.
      lock.unlock();
      on_change_(*change);
      lock.lock();
    }
    auto it = targets_.find(job.id);
    if (it != targets_.end() && it->second->generation == job.generation) {
      it->second->in_flight = false;
      scheduler_cv_.notify_one();
    }
  }
}

std::optional<StateChange> HealthChecker::complete(const Job& job, Result<ProbeOutcome> result,
                                                   TimePoint end) {
  if (stopping_) return std::nullopt;  // cancelled probes say nothing about the backend
  auto it = targets_.find(job.id);
  if (it == targets_.end() || it->second->generation != job.generation) return std::nullopt;
  Target& t = *it->second;
  bool ok = result && result->ok;
  // Our own failures (bind to a missing source...) count as failures: we cannot vouch for
  // the backend, and the detail says it was us.
  std::string detail = result ? result->detail : "probe error: " + result.error().describe();
  bool changed = t.rise_fall.record(ok);
  t.status.last_ok = ok;
  t.status.last_latency =
      result ? result->latency : std::chrono::duration_cast<Millis>(end - job.start);
  t.status.last_detail = detail;
  t.status.checks++;
  t.status.last_check = options_.wall_clock();
  t.status.state = t.rise_fall.state();
  if (t.trigger_pending) {
    t.next_due = std::max(end, job.start + options_.trigger_min_gap);
  } else {
    t.next_due = next_check_time(job.start, end, t.spec.interval, options_.jitter, rng_);
  }
  t.trigger_pending = false;
  if (!changed) return std::nullopt;
  return StateChange{t.id, t.rise_fall.state(), detail, *t.status.last_check};
}

}  // namespace rail::health
