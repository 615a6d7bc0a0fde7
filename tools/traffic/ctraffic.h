// rail-ctraffic's engine: long-lived TCP connections sending "seq N" at a steady rate, each
// watched for loss (reset, EOF, late reply, backend change), optionally replaced when lost.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "tools/traffic/ctraffic_recorder.h"
#include "tools/traffic/socket_util.h"

namespace rail::traffic {

struct CtrafficOptions {
  Endpoint target;
  uint32_t connections = 100;  // >= 1
  double rate = 10;            // messages per second per connection, > 0
  std::chrono::milliseconds duration{30'000};
  std::chrono::milliseconds timeout{1000};          // a reply later than this = connection lost
  std::chrono::milliseconds connect_timeout{3000};  // connect + first reply of an attempt
  std::vector<IpAddress> sources;                   // round-robin; empty = kernel's choice
  bool reconnect = true;
  // With reconnect: wait this long after a loss before the replacement's first attempt (a
  // client's back-off; lets a scenario finish a change on every node before replacements).
  std::chrono::milliseconds reconnect_delay{0};
  std::string stop_file;  // end early once this path exists
};

struct CtrafficOutcome {
  double duration_s = 0;
  bool interrupted = false;  // SIGINT/SIGTERM or the stop file ended the run early
};

// Runs for options.duration (or until stop_fd / the stop file), feeding `recorder`; calls
// `on_sample` after each one-second sample. Errors only when the event loop cannot run.
Result<CtrafficOutcome> run_ctraffic(const CtrafficOptions& options, int stop_fd,
                                     CtrafficRecorder& recorder,
                                     const std::function<void(const CtrafficSample&)>& on_sample);

}  // namespace rail::traffic
