// IcmpListener: raild's passive health detection. Owns raw ICMP and ICMPv6 sockets that receive
// only destination-unreachable messages, and reports the backend each one concerns.
//
// It has no thread: the daemon polls fds() on its main loop and calls drain(fd) when one is
// readable (docs/health-checks.md "Passive detection"). A message concerns a backend when its
// source is a backend address (the backend itself answered "unreachable"), else when the
// quoted packet's destination is (a router on the path could not reach it). `report` is
// Controller::report_unreachable: it triggers an immediate check of every checked backend with
// that address and returns how many; 0 means "not a backend". At most one report per address
// per Options::min_gap, so an ICMP storm costs at most one extra check per backend per gap.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "core/net/address.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "daemon/health/icmp_unreachable.h"

namespace rail::health {

// Why a received message triggered nothing (the reason label of rail_icmp_ignored_total).
enum class IcmpIgnored : uint8_t {
  kMalformed,    // truncated, bad checksum, or an unreadable quoted packet
  kOtherType,    // not a counted destination-unreachable code (e.g. fragmentation needed)
  kNotBackend,   // neither its source nor the quoted destination is a checked backend
  kRateLimited,  // that backend was reported less than min_gap ago
  kCount,
};
const char* to_string(IcmpIgnored reason);  // "malformed", "other_type", ...

struct IcmpListenerStats {
  uint64_t received_v4 = 0;  // messages read (the socket filters pass only unreachables)
  uint64_t received_v6 = 0;
  uint64_t matched = 0;  // messages that triggered a check of at least one backend
  uint64_t checks_triggered = 0;
  std::array<uint64_t, size_t(IcmpIgnored::kCount)> ignored{};
};

class IcmpListener {
 public:
  struct Options {
    bool v6 = true;  // also ICMPv6 (skipped, not an error, where the kernel has no IPv6)
    std::chrono::milliseconds min_gap{1000};  // per backend address, between two reports
    std::function<std::chrono::steady_clock::time_point()> clock = [] {
      return std::chrono::steady_clock::now();
    };
  };
  // Returns how many checks it triggered for `address` (0: not a backend).
  using Report = std::function<size_t(const IpAddress& address)>;

  // Opens the sockets in the calling thread's network namespace (needs CAP_NET_RAW).
  static Result<std::unique_ptr<IcmpListener>> open(Options options, Report report);
  IcmpListener(const IcmpListener&) = delete;
  IcmpListener& operator=(const IcmpListener&) = delete;

  // The sockets to poll for POLLIN (one or two; non-blocking).
  std::vector<int> fds() const;
  // Reads and handles every message waiting on `fd` (at most 256 per call, so a flood cannot
  // hold the caller's loop); returns how many were read.
  size_t drain(int fd);
  // Handles one parsed message (drain's second half; tests feed it directly).
  void handle(const Result<std::optional<IcmpUnreachable>>& message);

  IcmpListenerStats stats() const;  // safe from any thread

 private:
  IcmpListener(Options options, Report report, UniqueFd v4, UniqueFd v6);
  bool rate_limited(const IpAddress& address, std::chrono::steady_clock::time_point now) const;

  Options options_;
  Report report_;
  UniqueFd v4_;
  UniqueFd v6_;
  std::map<IpAddress, std::chrono::steady_clock::time_point> last_report_;  // drain()'s thread
  std::atomic<uint64_t> received_v4_{0}, received_v6_{0}, matched_{0}, checks_triggered_{0};
  std::array<std::atomic<uint64_t>, size_t(IcmpIgnored::kCount)> ignored_{};
};

}  // namespace rail::health
