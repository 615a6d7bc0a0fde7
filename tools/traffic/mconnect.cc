// rail-mconnect's engine: a bounded window of attempts, each a small state machine
// (connect -> send hello -> read one line) with a deadline; results folded into a report.
#include "tools/traffic/mconnect.h"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <unordered_map>

#include "tools/traffic/event_loop.h"
#include "tools/traffic/traffic_options.h"

namespace rail::traffic {
namespace {

constexpr uint64_t kKeyStop = ~0ULL;
constexpr std::string_view kHello = "hello\n";

struct Attempt {
  UniqueFd fd;
  bool connected = false;  // TCP: connect finished and hello sent; UDP: always
  std::string reply;
  Clock::time_point deadline;
};

class Runner {
 public:
  Runner(const MconnectOptions& options, Epoll epoll)
      : options_(options), epoll_(std::move(epoll)), sources_(options.sources) {}

  Result<MconnectReport> run(int stop_fd) {
    report_.target = options_.target.to_string();
    if (stop_fd >= 0) RAIL_TRY(epoll_.add(stop_fd, EPOLLIN, kKeyStop));
    start_ = Clock::now();
    std::array<epoll_event, 256> events;
    while (finished() < options_.connections && !report_.interrupted) {
      start_due_attempts();
      if (finished() >= options_.connections) break;  // the last ones failed at once
      auto n = epoll_.wait(events.data(), int(events.size()), wait_ms());
      if (!n) return n.error();
      for (int i = 0; i < *n; ++i) {
        if (events[i].data.u64 == kKeyStop) {
          report_.interrupted = read_stop_signal(stop_fd) != 0;
        } else {
          on_event(events[i].data.u64, events[i].events);
        }
      }
      expire(Clock::now());
    }
    report_.elapsed_s = std::chrono::duration<double>(Clock::now() - start_).count();
    report_.connections = report_.ok + report_.failed;
    return report_;
  }

 private:
  uint64_t finished() const { return report_.ok + report_.failed; }

  // When the next attempt may start under --rate (start_ when unlimited).
  Clock::time_point next_start_time() const {
    if (options_.rate <= 0) return start_;
    return start_ + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(double(started_) / options_.rate));
  }

  void start_due_attempts() {
    while (started_ < options_.connections && attempts_.size() < options_.parallel &&
           next_start_time() <= Clock::now()) {
      start_attempt();
    }
  }

  int wait_ms() const {
    Clock::time_point wake = Clock::now() + std::chrono::seconds(1);
    if (!order_.empty()) wake = std::min(wake, order_.front().first);
    if (started_ < options_.connections && attempts_.size() < options_.parallel) {
      wake = std::min(wake, next_start_time());
    }
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count();
    return int(std::max<int64_t>(ms, 0));
  }

  void fail(const std::string& kind, int fd = -1) {
    ++report_.failed;
    ++report_.errors[kind];
    record(fd, "", kind);
  }

  // --details: the attempt's local endpoint (getsockname: the source port the kernel chose at
  // connect time) with its outcome.
  void record(int fd, const std::string& backend, const std::string& error) {
    if (!options_.details) return;
    MconnectAttempt attempt{{}, backend, error};
    sockaddr_storage local{};
    socklen_t length = sizeof(local);
    if (fd >= 0 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0) {
      attempt.local = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&local), length);
    }
    report_.details.push_back(std::move(attempt));
  }

  void start_attempt() {
    const uint64_t id = started_++;
    const bool tcp = !options_.udp;
    auto fd = make_socket(options_.target.family(), tcp ? SOCK_STREAM : SOCK_DGRAM);
    if (!fd) return fail(error_kind(errno));
    if (!sources_.empty()) {
      if (!bind_source(fd->get(), sources_.next(), tcp)) return fail(error_kind(errno));
    }
    // UDP connects too: replies from anything but the target are ignored, ICMP errors surface.
    if (!start_connect(fd->get(), options_.target)) return fail(error_kind(errno), fd->get());
    Attempt attempt;
    attempt.fd = std::move(*fd);
    attempt.deadline = Clock::now() + options_.timeout;
    uint32_t interest = EPOLLOUT;
    if (!tcp) {
      if (::send(attempt.fd.get(), kHello.data(), kHello.size(), MSG_NOSIGNAL) < 0) {
        return fail(error_kind(errno), attempt.fd.get());
      }
      attempt.connected = true;
      interest = EPOLLIN;
    }
    if (!epoll_.add(attempt.fd.get(), interest, id)) {
      return fail(error_kind(errno), attempt.fd.get());
    }
    order_.emplace_back(attempt.deadline, id);
    attempts_.emplace(id, std::move(attempt));
  }

  void finish(uint64_t id, const std::string& backend_or_empty, const std::string& kind) {
    auto it = attempts_.find(id);
    const int fd = it->second.fd.get();
    epoll_.remove(fd);
    if (backend_or_empty.empty()) {
      fail(kind, fd);
    } else {
      ++report_.ok;
      ++report_.backends[backend_or_empty];
      record(fd, backend_or_empty, "");
    }
    attempts_.erase(it);  // closes the socket, after record() read its address
  }

  void on_event(uint64_t id, uint32_t events) {
    auto it = attempts_.find(id);
    if (it == attempts_.end()) return;
    Attempt& a = it->second;
    const int fd = a.fd.get();
    if (!a.connected) {
      if (int err = socket_error(fd); err != 0) return finish(id, "", error_kind(err));
      if (::send(fd, kHello.data(), kHello.size(), MSG_NOSIGNAL) < 0) {
        return finish(id, "", error_kind(errno));
      }
      a.connected = true;
      (void)epoll_.modify(fd, EPOLLIN, id);
      return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    std::array<char, 512> buffer;
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return finish(id, "", error_kind(errno));
    }
    if (n == 0) return finish(id, "", "eof");
    a.reply.append(buffer.data(), size_t(n));
    // A datagram is the whole reply; a TCP reply ends at its newline.
    if (options_.udp || a.reply.find('\n') != std::string::npos || a.reply.size() > 4096) {
      size_t end = a.reply.find_first_of(" \n");
      std::string name = a.reply.substr(0, end);
      finish(id, name, name.empty() ? "bad-reply" : "");
    }
  }

  void expire(Clock::time_point now) {
    while (!order_.empty() && order_.front().first <= now) {
      uint64_t id = order_.front().second;
      order_.pop_front();
      if (attempts_.count(id) != 0) finish(id, "", "timeout");
    }
    // Drop entries of attempts that already finished, so the front is a live deadline.
    while (!order_.empty() && attempts_.count(order_.front().second) == 0) order_.pop_front();
  }

  const MconnectOptions& options_;
  Epoll epoll_;
  SourcePicker sources_;
  MconnectReport report_;
  Clock::time_point start_;
  uint64_t started_ = 0;
  std::unordered_map<uint64_t, Attempt> attempts_;
  // Deadlines in start order (every attempt has the same timeout, so they are sorted).
  std::deque<std::pair<Clock::time_point, uint64_t>> order_;
};

std::string format(const char* fmt, auto... args) {
  std::array<char, 256> line;
  std::snprintf(line.data(), line.size(), fmt, args...);
  return line.data();
}

}  // namespace

Result<MconnectReport> run_mconnect(const MconnectOptions& options, int stop_fd) {
  auto epoll = Epoll::create();
  if (!epoll) return epoll.error();
  Runner runner(options, std::move(*epoll));
  return runner.run(stop_fd);
}

nlohmann::ordered_json mconnect_json(const MconnectReport& report) {
  nlohmann::ordered_json j;
  j["target"] = report.target;
  j["connections"] = report.connections;
  j["ok"] = report.ok;
  j["failed"] = report.failed;
  j["elapsed_s"] = report.elapsed_s;
  j["rate_per_s"] = report.rate_per_s();
  j["backends"] = nlohmann::ordered_json::object();
  for (const auto& [name, count] : report.backends) j["backends"][name] = count;
  j["errors"] = nlohmann::ordered_json::object();
  for (const auto& [kind, count] : report.errors) j["errors"][kind] = count;
  if (report.interrupted) j["interrupted"] = true;
  if (!report.details.empty()) {
    j["details"] = nlohmann::ordered_json::array();
    for (const MconnectAttempt& a : report.details) {
      nlohmann::ordered_json d;
      d["local"] = a.local.port() != 0 ? a.local.to_string() : "";
      if (a.error.empty()) {
        d["backend"] = a.backend;
      } else {
        d["error"] = a.error;
      }
      j["details"].push_back(std::move(d));
    }
  }
  return j;
}

std::string mconnect_text(const MconnectReport& report) {
  std::string out;
  for (const MconnectAttempt& a : report.details) {
    const std::string local = a.local.port() != 0 ? a.local.to_string() : "-";
    out += format("%-47s %s%s\n", local.c_str(), a.error.empty() ? "" : "failed: ",
                  a.error.empty() ? a.backend.c_str() : a.error.c_str());
  }
  out += format("%-20s %10s %8s\n", "backend", "count", "share");
  for (const auto& [name, count] : report.backends) {
    double share = report.connections ? 100.0 * double(count) / double(report.connections) : 0;
    out += format("%-20s %10llu %7.1f%%\n", name.c_str(), (unsigned long long)count, share);
  }
  out += format("target %s: %llu connections, %llu ok, %llu failed in %.3f s (%.0f/s)%s\n",
                report.target.c_str(), (unsigned long long)report.connections,
                (unsigned long long)report.ok, (unsigned long long)report.failed, report.elapsed_s,
                report.rate_per_s(), report.interrupted ? " (interrupted)" : "");
  for (const auto& [kind, count] : report.errors) {
    out += format("failed: %-20s %llu\n", kind.c_str(), (unsigned long long)count);
  }
  return out;
}

}  // namespace rail::traffic
