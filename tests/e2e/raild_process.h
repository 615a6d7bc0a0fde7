// The raild child of the live tests, and polling for what it does (wait_until).
//
// raild runs under `ip netns exec` (same pid: ip execs raild), which also gives it a private
// mount namespace and remounts /sys for the rail namespace. It is started by the testbed's
// Spawner (tools/testbed/process.h): SIGKILL by PDEATHSIG if the test process dies without
// running destructors; the destructor kills it if the test did not stop it.
#pragma once

#include <signal.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "tools/testbed/process.h"

#ifndef RAIL_RAILD_PATH
#error "RAIL_RAILD_PATH (the raild binary) must be defined by the build"
#endif

namespace rail::e2e {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Polls `done` every `step` until it holds (the seconds it took) or `limit` passes (nullopt).
inline std::optional<double> wait_until(
    const std::function<bool()>& done, double limit,
    std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
  const auto start = Clock::now();
  for (;;) {
    if (done()) return seconds_since(start);
    if (seconds_since(start) > limit) return std::nullopt;
    std::this_thread::sleep_for(step);
  }
}

class RaildProcess {
 public:
  // Starts raild --config `config` in namespace `ns`, stdout+stderr into `log` (truncated).
  Status start(const std::string& ns, const std::string& config, const std::string& log) {
    std::ofstream(log, std::ios::trunc).flush();
    auto process = spawner_.spawn(
        {testbed::ip_binary(), "netns", "exec", ns, RAIL_RAILD_PATH, "--config", config}, log);
    if (!process) return process.error();
    process_ = std::move(*process);
    return ok();
  }

  bool running() { return process_.running(); }
  void signal(int sig) const { process_.signal(sig); }

  // SIGTERM, then waits up to `limit` seconds: the time it took, or nullopt (then SIGKILL).
  std::optional<double> terminate(double limit) {
    const auto start = Clock::now();
    signal(SIGTERM);
    auto status = process_.wait(std::chrono::milliseconds(int64_t(limit * 1000)));
    if (!status) {
      process_.kill_now();
      return std::nullopt;
    }
    exit_status_ = *status;
    return seconds_since(start);
  }

  // After terminate(): the exit code (0: a clean exit), 128 + signal, or -1.
  int exit_status() const { return exit_status_; }

 private:
  testbed::Spawner spawner_;  // declared first: outlives process_
  testbed::Process process_;
  int exit_status_ = -1;
};

}  // namespace rail::e2e
