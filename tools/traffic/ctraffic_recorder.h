// CtrafficRecorder: rail-ctraffic's bookkeeping, free of sockets and clocks so it can be unit
// tested: connection lifecycle events in, one-second samples and the final summary out
// (as JSON, a text summary and progress lines).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rail::traffic {

// The reasons a connection is counted as lost (JSON keys of summary.lost_by_reason). Other
// socket errors are recorded under error_kind()'s name ("unreachable", ...).
inline constexpr const char* kLostReset = "reset";
inline constexpr const char* kLostTimeout = "timeout";
inline constexpr const char* kLostEof = "eof";
inline constexpr const char* kLostBackendChanged = "backend_changed";
inline constexpr const char* kLostConnectFailed = "connect_failed";
inline constexpr const char* kLostBadReply = "bad_reply";

// One row per second (and a last one at the end of a run that stopped between seconds).
struct CtrafficSample {
  double t = 0;        // seconds since the run started
  uint64_t alive = 0;  // connections that know their backend, at time t
  uint64_t lost = 0;   // losses since the previous sample
  uint64_t lost_total = 0;
  uint64_t reconnected_total = 0;
  uint64_t connecting = 0;                   // attempts not yet answered, at time t
  uint64_t sent = 0;                         // messages sent since the previous sample
  uint64_t answered = 0;                     // replies received since the previous sample
  std::map<std::string, uint64_t> backends;  // alive connections per backend, at time t
};

struct CtrafficSummary {
  std::map<std::string, uint64_t> initial_backends;  // original connections by first backend
  uint64_t lost_total = 0;
  std::map<std::string, uint64_t> lost_by_backend;  // backend the connection had when lost
  std::map<std::string, uint64_t> lost_by_reason;   // always holds the five standard reasons
  uint64_t reconnected = 0;                         // replacements that became alive
  uint64_t reconnect_failed = 0;  // replacement attempts that failed (retried, not "lost")
  uint64_t sent = 0;
  uint64_t answered = 0;
  double max_latency_ms = 0;
  double mean_latency_ms = 0;
  std::map<std::string, uint64_t> final_backends;  // alive connections at the end
};

// What the run was asked to do, for the JSON header and the text summary.
struct CtrafficRunInfo {
  std::string target;
  uint64_t connections = 0;
  double rate = 0;           // messages per second per connection
  double duration_s = 0;     // how long the run actually lasted
  bool interrupted = false;  // a signal or the stop file ended it before --duration
};

class CtrafficRecorder {
 public:
  // A connection learned its backend. `replacement`: it replaces a lost one (counted as
  // reconnected) rather than being one of the original connections.
  void alive(const std::string& backend, bool replacement);
  // An alive connection (backend non-empty) or a slot's first attempt (backend empty, reason
  // kLostConnectFailed) was lost.
  void lost(const std::string& backend, const std::string& reason);
  void reconnect_failed() { ++summary_.reconnect_failed; }
  void sent() { ++sent_this_second_; }
  void answered(double latency_ms);

  // Closes the current sample at time t (seconds) with `connecting` attempts in progress.
  const CtrafficSample& take_sample(double t, uint64_t connecting);

  uint64_t alive_count() const { return alive_count_; }
  uint64_t ever_alive() const { return ever_alive_; }
  const std::vector<CtrafficSample>& samples() const { return samples_; }
  CtrafficSummary summary() const;

  nlohmann::ordered_json to_json(const CtrafficRunInfo& info) const;
  std::string summary_text(const CtrafficRunInfo& info) const;
  // "t=5s alive=100 lost=0(+0) reconnected=0 connecting=0 sent=1000 answered=1000 b1=11 b2=9"
  static std::string progress_line(const CtrafficSample& sample);

 private:
  CtrafficSummary summary_;  // running totals (final_backends and mean filled by summary())
  std::map<std::string, uint64_t> alive_by_backend_;
  uint64_t alive_count_ = 0;
  uint64_t ever_alive_ = 0;
  uint64_t lost_this_second_ = 0;
  uint64_t sent_this_second_ = 0;
  uint64_t answered_this_second_ = 0;
  double latency_sum_ms_ = 0;
  std::vector<CtrafficSample> samples_;
};

}  // namespace rail::traffic
