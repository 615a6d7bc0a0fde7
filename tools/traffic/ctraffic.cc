// rail-ctraffic's engine: one slot per wanted connection, each a small state machine
// (idle -> connecting -> awaiting first reply -> alive) driven by epoll and a timer heap.
#include "tools/traffic/ctraffic.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <deque>
#include <queue>

#include "tools/traffic/event_loop.h"
#include "tools/traffic/traffic_options.h"

namespace rail::traffic {
namespace {

constexpr uint64_t kKeyStop = ~0ULL;
constexpr auto kStopFileCheck = std::chrono::milliseconds(100);

enum class State { kIdle, kConnecting, kAwaitFirst, kAlive, kDone };

struct Slot {
  UniqueFd fd;
  State state = State::kIdle;
  bool first_attempt = true;  // the slot's very first attempt has not resolved yet
  bool replacement = false;   // the slot lost a connection: its next alive one is "reconnected"
  std::string backend;        // known in kAlive
  std::string in;             // received bytes not yet a full line
  std::string out;            // messages not yet accepted by the socket
  std::deque<std::pair<uint64_t, Clock::time_point>> outstanding;  // (seq, sent at)
  uint64_t next_seq = 0;
  Clock::time_point next_send, attempt_deadline, retry_at, scheduled;
  uint32_t generation = 0;  // timer entries of older generations are stale
  uint32_t failures = 0;    // consecutive failed attempts, for the retry backoff
  uint32_t interest = 0;
};

struct Timer {
  Clock::time_point when;
  size_t slot;
  uint32_t generation;
  bool operator>(const Timer& o) const { return when > o.when; }
};

class Engine {
 public:
  Engine(const CtrafficOptions& options, Epoll epoll, CtrafficRecorder& recorder,
         const std::function<void(const CtrafficSample&)>& on_sample)
      : options_(options),
        epoll_(std::move(epoll)),
        recorder_(recorder),
        on_sample_(on_sample),
        sources_(options.sources),
        slots_(options.connections),
        interval_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(1.0 / options.rate))) {}

  Result<CtrafficOutcome> run(int stop_fd) {
    if (stop_fd >= 0) RAIL_TRY(epoll_.add(stop_fd, EPOLLIN, kKeyStop));
    start_ = Clock::now();
    const Clock::time_point end = start_ + options_.duration;
    for (size_t i = 0; i < slots_.size(); ++i) start_attempt(i);
    CtrafficOutcome outcome;
    uint64_t next_second = 1;
    Clock::time_point next_stop_check = start_;
    std::array<epoll_event, 256> events;
    while (true) {
      Clock::time_point now = Clock::now();
      while (!timers_.empty() && timers_.top().when <= now) {
        Timer t = timers_.top();
        timers_.pop();
        if (slots_[t.slot].generation != t.generation) continue;  // superseded
        slots_[t.slot].scheduled = {};
        on_timer(t.slot, now);
      }
      while (sample_time(next_second) <= now && sample_time(next_second) <= end) {
        on_sample_(recorder_.take_sample(double(next_second++), connecting_count()));
      }
      if (!options_.stop_file.empty() && now >= next_stop_check) {
        next_stop_check = now + kStopFileCheck;
        if (::access(options_.stop_file.c_str(), F_OK) == 0) outcome.interrupted = true;
      }
      if (now >= end || outcome.interrupted) break;
      Clock::time_point wake = std::min(end, sample_time(next_second));
      if (!timers_.empty()) wake = std::min(wake, timers_.top().when);
      if (!options_.stop_file.empty()) wake = std::min(wake, next_stop_check);
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
      auto n = epoll_.wait(events.data(), int(events.size()), int(std::max<int64_t>(ms, 0)));
      if (!n) return n.error();
      for (int i = 0; i < *n; ++i) {
        if (events[i].data.u64 == kKeyStop) {
          outcome.interrupted = read_stop_signal(stop_fd) != 0 || outcome.interrupted;
        } else {
          on_event(size_t(events[i].data.u64), events[i].events);
        }
      }
    }
    const Clock::time_point stop = std::min(Clock::now(), end);
    outcome.duration_s = std::chrono::duration<double>(stop - start_).count();
    // The last partial second still counts (an interrupted run, or a fractional --duration).
    const double last_t = recorder_.samples().empty() ? 0 : recorder_.samples().back().t;
    if (outcome.duration_s > last_t + 0.001) {
      on_sample_(
          recorder_.take_sample(std::round(outcome.duration_s * 1000) / 1000, connecting_count()));
    }
    return outcome;
  }

 private:
  Clock::time_point sample_time(uint64_t second) const {
    return start_ + std::chrono::seconds(second);
  }

  uint64_t connecting_count() const {
    return uint64_t(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) {
      return s.state == State::kConnecting || s.state == State::kAwaitFirst;
    }));
  }

  void start_attempt(size_t i) {
    Slot& s = slots_[i];
    auto fd = make_socket(options_.target.family(), SOCK_STREAM);
    if (!fd) return attempt_failed(i);
    if (!sources_.empty() && !bind_source(fd->get(), sources_.next(), true)) {
      return attempt_failed(i);
    }
    if (!start_connect(fd->get(), options_.target)) return attempt_failed(i);
    if (!epoll_.add(fd->get(), EPOLLOUT, i)) return attempt_failed(i);
    s.fd = std::move(*fd);
    s.interest = EPOLLOUT;
    s.state = State::kConnecting;
    s.attempt_deadline = Clock::now() + options_.connect_timeout;
    s.next_seq = 0;
    schedule(i);
  }

  void close_socket(Slot& s) {
    if (s.fd.valid()) epoll_.remove(s.fd.get());
    s.fd.reset();
    s.in.clear();
    s.out.clear();
    s.outstanding.clear();
    s.interest = 0;
  }

  // Waits before the next attempt: 50 ms doubling up to 200 ms. Gentle on a dead target, yet
  // quick to land on a live backend when a balancer still sends some attempts to a dead one.
  void retry_later(size_t i) {
    Slot& s = slots_[i];
    if (!options_.reconnect) {
      s.state = State::kDone;
      return schedule(i);
    }
    auto backoff = std::chrono::milliseconds(50) * (1u << std::min(s.failures - 1, 2u));
    s.retry_at = Clock::now() + backoff;
    s.state = State::kIdle;
    schedule(i);
  }

  // An attempt ended before the connection learned its backend.
  void attempt_failed(size_t i) {
    Slot& s = slots_[i];
    close_socket(s);
    if (s.first_attempt) {
      recorder_.lost("", kLostConnectFailed);
      s.first_attempt = false;
      s.replacement = true;
    } else {
      recorder_.reconnect_failed();
    }
    ++s.failures;
    retry_later(i);
  }

  // An alive connection ended: counted as lost on its backend, replaced (after
  // --reconnect-delay) if wanted.
  void lose(size_t i, const std::string& reason) {
    Slot& s = slots_[i];
    recorder_.lost(s.backend, reason);
    close_socket(s);
    s.backend.clear();
    s.replacement = true;
    s.failures = 0;
    if (!options_.reconnect) {
      s.state = State::kDone;
      return schedule(i);
    }
    s.state = State::kIdle;
    s.retry_at = Clock::now() + options_.reconnect_delay;
    schedule(i);
  }

  // A socket error while connecting or alive.
  void fail(size_t i, int err) {
    if (slots_[i].state == State::kAlive) {
      return lose(i, err == ECONNRESET || err == EPIPE ? kLostReset
                     : err == ETIMEDOUT                ? kLostTimeout
                                                       : error_kind(err));
    }
    attempt_failed(i);
  }

  void on_event(size_t i, uint32_t events) {
    if (i >= slots_.size() || !slots_[i].fd.valid()) return;
    Slot& s = slots_[i];
    if (s.state == State::kConnecting) {
      if (int err = socket_error(s.fd.get()); err != 0) return attempt_failed(i);
      s.state = State::kAwaitFirst;
      send_message(i);  // its reply names the backend
      return update_interest(i);
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      if (!read_replies(i)) return;
    }
    if ((events & EPOLLOUT) && !flush(i)) return;
    update_interest(i);
  }

  // False when the slot's connection ended (lost or failed).
  bool read_replies(size_t i) {
    Slot& s = slots_[i];
    std::array<char, 16384> buffer;
    while (true) {
      ssize_t n = ::recv(s.fd.get(), buffer.data(), buffer.size(), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        fail(i, errno);
        return false;
      }
      if (n == 0) {
        if (s.state == State::kAlive) {
          lose(i, kLostEof);
        } else {
          attempt_failed(i);
        }
        return false;
      }
      s.in.append(buffer.data(), size_t(n));
      size_t start = 0;
      for (size_t nl; (nl = s.in.find('\n', start)) != std::string::npos; start = nl + 1) {
        if (!handle_reply(i, std::string_view(s.in).substr(start, nl - start))) return false;
      }
      s.in.erase(0, start);
    }
    schedule(i);
    return true;
  }

  // "NAME seq N" for the oldest outstanding message. False when the connection ended.
  bool handle_reply(size_t i, std::string_view line) {
    Slot& s = slots_[i];
    size_t space = line.find(' ');
    std::string_view name = line.substr(0, space);
    std::string_view rest = space == std::string_view::npos ? "" : line.substr(space + 1);
    uint64_t seq = 0;
    bool well_formed = rest.starts_with("seq ");
    if (well_formed) {
      auto [end, ec] = std::from_chars(rest.data() + 4, rest.data() + rest.size(), seq);
      well_formed = ec == std::errc() && end == rest.data() + rest.size();
    }
    if (!well_formed || name.empty() || s.outstanding.empty() ||
        s.outstanding.front().first != seq) {
      if (s.state == State::kAlive) {
        lose(i, kLostBadReply);
      } else {
        attempt_failed(i);
      }
      return false;
    }
    const Clock::time_point now = Clock::now();
    recorder_.answered(
        std::chrono::duration<double, std::milli>(now - s.outstanding.front().second).count());
    s.outstanding.pop_front();
    if (s.state == State::kAwaitFirst) {
      s.state = State::kAlive;
      s.backend = std::string(name);
      s.first_attempt = false;
      s.failures = 0;
      recorder_.alive(s.backend, s.replacement);
      // Spread the connections' sends evenly over one interval instead of all at once.
      s.next_send = now + std::chrono::duration_cast<Clock::duration>(
                              interval_ * (double(i + 1) / double(slots_.size())));
      return true;
    }
    if (name != s.backend) {
      lose(i, kLostBackendChanged);
      return false;
    }
    return true;
  }

  void send_message(size_t i) {
    Slot& s = slots_[i];
    const uint64_t seq = s.next_seq++;
    s.out += "seq " + std::to_string(seq) + "\n";
    s.outstanding.emplace_back(seq, Clock::now());
    recorder_.sent();
    flush(i);
  }

  // Writes pending messages; false when the connection ended.
  bool flush(size_t i) {
    Slot& s = slots_[i];
    while (!s.out.empty()) {
      ssize_t n = ::send(s.fd.get(), s.out.data(), s.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        fail(i, errno);
        return false;
      }
      s.out.erase(0, size_t(n));
    }
    return true;
  }

  void on_timer(size_t i, Clock::time_point now) {
    Slot& s = slots_[i];
    switch (s.state) {
      case State::kIdle:
        if (now >= s.retry_at) return start_attempt(i);
        break;
      case State::kConnecting:
      case State::kAwaitFirst:
        if (now >= s.attempt_deadline) return attempt_failed(i);
        break;
      case State::kAlive:
        if (!s.outstanding.empty() && now - s.outstanding.front().second >= options_.timeout) {
          return lose(i, kLostTimeout);
        }
        if (now >= s.next_send) {
          s.next_send += interval_;
          if (s.next_send <= now) s.next_send = now + interval_;  // fell behind: no burst
          send_message(i);
          if (s.state != State::kAlive) return;
          update_interest(i);
        }
        break;
      case State::kDone:
        return;
    }
    schedule(i);
  }

  // Puts the slot's next deadline on the timer heap (unless that exact one is already there).
  void schedule(size_t i) {
    Slot& s = slots_[i];
    Clock::time_point wake = Clock::time_point::max();
    switch (s.state) {
      case State::kIdle:
        wake = s.retry_at;
        break;
      case State::kConnecting:
      case State::kAwaitFirst:
        wake = s.attempt_deadline;
        break;
      case State::kAlive:
        wake = s.next_send;
        if (!s.outstanding.empty()) {
          wake = std::min(wake, s.outstanding.front().second + options_.timeout);
        }
        break;
      case State::kDone:
        break;
    }
    if (wake == s.scheduled) return;
    s.scheduled = wake;
    ++s.generation;
    if (wake != Clock::time_point::max()) timers_.push(Timer{wake, i, s.generation});
  }

  void update_interest(size_t i) {
    Slot& s = slots_[i];
    if (!s.fd.valid()) return;
    uint32_t interest = s.state == State::kConnecting ? EPOLLOUT : EPOLLIN;
    if (!s.out.empty()) interest |= EPOLLOUT;
    if (interest != s.interest) {
      s.interest = interest;
      (void)epoll_.modify(s.fd.get(), interest, i);
    }
  }

  const CtrafficOptions& options_;
  Epoll epoll_;
  CtrafficRecorder& recorder_;
  const std::function<void(const CtrafficSample&)>& on_sample_;
  SourcePicker sources_;
  std::vector<Slot> slots_;
  Clock::duration interval_;
  Clock::time_point start_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
};

}  // namespace

Result<CtrafficOutcome> run_ctraffic(const CtrafficOptions& options, int stop_fd,
                                     CtrafficRecorder& recorder,
                                     const std::function<void(const CtrafficSample&)>& on_sample) {
  auto epoll = Epoll::create();
  if (!epoll) return epoll.error();
  Engine engine(options, std::move(*epoll), recorder, on_sample);
  return engine.run(stop_fd);
}

}  // namespace rail::traffic
