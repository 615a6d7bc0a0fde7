// epoll and signalfd wrappers for the traffic tools' single-threaded, non-blocking event loops.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>

#include "core/result.h"
#include "tools/traffic/socket_util.h"

namespace rail::traffic {

// An owned epoll instance. `key` is handed back in epoll_event.data.u64.
class Epoll {
 public:
  static Result<Epoll> create();
  Status add(int fd, uint32_t events, uint64_t key);
  Status modify(int fd, uint32_t events, uint64_t key);
  void remove(int fd);  // before close(fd); harmless if fd was never added
  // Waits up to timeout_ms (-1 = forever); number of events (0 on timeout or EINTR), or error.
  Result<int> wait(epoll_event* events, int max_events, int timeout_ms);
  int fd() const { return fd_.get(); }

 private:
  explicit Epoll(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// Blocks SIGINT and SIGTERM for the process and returns a non-blocking signalfd that becomes
// readable when either arrives (so the event loop sees it). Call before starting threads.
Result<UniqueFd> make_stop_signal_fd();
// Reads one pending signal from the fd: its number, or 0 when none is pending.
int read_stop_signal(int signal_fd);

// Monotonic clock used by every tool (steady, immune to wall-clock steps).
using Clock = std::chrono::steady_clock;

}  // namespace rail::traffic
