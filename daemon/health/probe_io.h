// Deadline-bounded, cancellable socket steps shared by every probe type.
//
// Every probe socket is non-blocking and every wait is a poll() on the socket plus an optional
// cancel fd (the engine's shutdown eventfd), bounded by the probe's absolute deadline: a probe
// can never outlive its timeout, and stop() never waits for one.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/unique_fd.h"
#include "daemon/health/health_spec.h"

namespace rail::health {

using SteadyClock = std::chrono::steady_clock;

// Per-probe limits: when it must end and what aborts it early.
struct ProbeContext {
  SteadyClock::time_point start;
  SteadyClock::time_point deadline;
  int cancel_fd = -1;  // readable = abort now (engine shutdown); -1 = none

  static ProbeContext starting_now(Millis timeout, int cancel_fd = -1);
  Millis elapsed() const;
};

// Why a probe step did not complete. `local` failures are ours (socket(), bind to a missing
// source address, cancellation) and surface as Result errors; the rest are the backend's
// verdict (refused, reset, timeout, bad status) and surface as ProbeOutcome{ok = false}.
struct Failure {
  bool local = false;
  std::string detail;
};
using MaybeFailure = std::optional<Failure>;  // nullopt = the step succeeded

Failure remote_failure(std::string detail);
Failure local_failure(std::string detail);
// "connect: connection refused" from errno.
Failure errno_failure(bool local, std::string_view what, int err);

// The step's verdict turned into a probe result (ok_detail when it succeeded).
Result<ProbeOutcome> finish_probe(const ProbeContext& ctx, MaybeFailure failure,
                                  std::string ok_detail);

// A non-blocking, close-on-exec socket of the target's family with SO_MARK and the source bind
// applied. All failures are local.
Result<UniqueFd> open_probe_socket(const ProbeTarget& target, int type);

// Non-blocking connect, waiting for completion until the deadline.
MaybeFailure connect_socket(int fd, const ProbeTarget& target, const ProbeContext& ctx);

// Waits until `fd` has `events` (POLLIN/POLLOUT); POLLERR/POLLHUP also end the wait (the next
// I/O call reports why). `what` names the step in a timeout message.
MaybeFailure wait_for(int fd, short events, const ProbeContext& ctx, std::string_view what);

// send() of all bytes (MSG_NOSIGNAL: a reset peer must not SIGPIPE the daemon).
MaybeFailure send_all(int fd, std::string_view bytes, const ProbeContext& ctx);

// One recv() of up to `capacity` bytes once readable; `got` = 0 means the peer closed.
MaybeFailure recv_some(int fd, char* buffer, size_t capacity, size_t& got, const ProbeContext& ctx);

}  // namespace rail::health
