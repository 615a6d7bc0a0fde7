// rail-mconnect's engine: many short connections (or datagrams) to one target, counting which
// backend answered each and how the others failed. One thread, epoll, non-blocking sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "tools/traffic/socket_util.h"

namespace rail::traffic {

struct MconnectOptions {
  Endpoint target;
  uint64_t connections = 1000;              // attempts in total, >= 1
  uint32_t parallel = 100;                  // attempts in flight at once, >= 1
  std::vector<IpAddress> sources;           // round-robin source addresses; empty = kernel's choice
  std::chrono::milliseconds timeout{2000};  // per attempt: connect + hello + reply line
  bool udp = false;                         // one datagram per attempt instead of a TCP connection
  double rate = 0;                          // attempts started per second; 0 = as fast as possible
  bool details = false;                     // record every attempt in MconnectReport::details
};

// One attempt as the client saw it (--details): its local address and port (what the balancer
// hashed), and the backend that answered or how it failed. `local` is unset (port 0) when the
// attempt failed before it had a socket address (socket, bind or connect refused at once).
struct MconnectAttempt {
  Endpoint local;
  std::string backend;  // first word of the reply; "" when the attempt failed
  std::string error;    // failure kind (as in MconnectReport::errors); "" when answered
};

struct MconnectReport {
  std::string target;
  uint64_t connections = 0;  // attempts finished (== options.connections unless interrupted)
  uint64_t ok = 0;
  uint64_t failed = 0;
  double elapsed_s = 0;
  std::map<std::string, uint64_t> backends;  // first word of the reply -> answers
  std::map<std::string, uint64_t> errors;    // error_kind() / "timeout" / "eof" -> failures
  bool interrupted = false;                  // SIGINT/SIGTERM ended the run early
  std::vector<MconnectAttempt> details;  // with options.details: one per attempt, in finish order

  double rate_per_s() const { return elapsed_s > 0 ? double(connections) / elapsed_s : 0; }
};

// Runs the attempts. `stop_fd` (a signalfd, or -1) ends the run early. Errors only when the
// event loop itself cannot run; every per-attempt failure is counted in the report.
Result<MconnectReport> run_mconnect(const MconnectOptions& options, int stop_fd);

// {"target","connections","ok","failed","elapsed_s","rate_per_s","backends","errors"}, then
// "details": [{"local": "ADDR:PORT", "backend": NAME} or {..., "error": KIND}] when recorded.
nlohmann::ordered_json mconnect_json(const MconnectReport& report);
// The table per backend (name, count, share %), totals, rate and failure kinds.
std::string mconnect_text(const MconnectReport& report);

}  // namespace rail::traffic
