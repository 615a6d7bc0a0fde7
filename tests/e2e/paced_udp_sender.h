// A steady UDP stream for the restart tests: datagrams "0", "1", ... round-robin over one
// socket per flow, at a fixed rate on absolute deadlines, on its own thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "e2e_sockets.h"

namespace rail::e2e {

class PacedUdpSender {
 public:
  // Starts sending `count` datagrams at `rate` per second to `to` from `flows` (one socket per
  // flow, created by the caller in the client namespace).
  PacedUdpSender(const std::vector<UniqueFd>& flows, sockaddr_in to, int rate, int count)
      : flows_(flows), to_(to), rate_(rate), count_(count), thread_([this] { send_all(); }) {}
  // Stops and joins: the sender never outlives its test, even after a failed ASSERT.
  ~PacedUdpSender() { stop(); }
  PacedUdpSender(const PacedUdpSender&) = delete;
  PacedUdpSender& operator=(const PacedUdpSender&) = delete;

  // Waits until all `count` datagrams were sent.
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  // Stops sending now and joins.
  void stop() {
    stop_ = true;
    join();
  }
  int sent() const { return sent_; }
  int send_errors() const { return send_errors_; }

 private:
  void send_all() {
    timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (int n = 0; !stop_ && n < count_; ++n) {
      next.tv_nsec += 1'000'000'000 / rate_;
      if (next.tv_nsec >= 1'000'000'000) {
        next.tv_nsec -= 1'000'000'000;
        ++next.tv_sec;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
      const std::string msg = std::to_string(n);
      if (sendto(flows_[size_t(n) % flows_.size()].get(), msg.data(), msg.size(), 0,
                 reinterpret_cast<const sockaddr*>(&to_), sizeof(to_)) == ssize_t(msg.size()))
        ++sent_;
      else
        ++send_errors_;
    }
  }

  const std::vector<UniqueFd>& flows_;
  const sockaddr_in to_;
  const int rate_, count_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0}, send_errors_{0};
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace rail::e2e
