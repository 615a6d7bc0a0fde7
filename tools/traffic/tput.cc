// rail-tput's engine: connect every stream, announce SINK/SOURCE, then write or read flat out
// on one epoll loop for the measured time.
#include "tools/traffic/tput.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdio>

#include "tools/traffic/event_loop.h"
#include "tools/traffic/traffic_options.h"

namespace rail::traffic {
namespace {

constexpr uint64_t kKeyStop = ~0ULL;
constexpr size_t kChunk = 256 * 1024;

struct Stream {
  UniqueFd fd;
  bool connected = false;
  std::string greeting;  // "SINK\n"/"SOURCE\n" bytes not yet sent
  uint64_t bytes = 0;
};

std::string format(const char* fmt, auto... args) {
  std::array<char, 256> line;
  std::snprintf(line.data(), line.size(), fmt, args...);
  return line.data();
}

class TputRun {
 public:
  TputRun(const TputOptions& options, Epoll epoll)
      : options_(options), epoll_(std::move(epoll)), streams_(options.streams) {}

  Result<TputReport> run(int stop_fd) {
    upload_ = options_.direction == TputDirection::kUpload;
    report_.target = options_.target.to_string();
    report_.direction = upload_ ? "upload" : "download";
    report_.streams = options_.streams;
    if (stop_fd >= 0) RAIL_TRY(epoll_.add(stop_fd, EPOLLIN, kKeyStop));
    SourcePicker sources(options_.sources);
    for (size_t i = 0; i < streams_.size(); ++i) open_stream(i, sources);
    // Phase 1: every stream connects (and sends its greeting); phase 2: the measured time.
    RAIL_TRY(loop(stop_fd, Clock::now() + options_.connect_timeout, true));
    for (size_t i = 0; i < streams_.size(); ++i) {
      if (streams_[i].fd.valid() && !streams_[i].connected) fail(i, ETIMEDOUT);
    }
    for (size_t i = 0; i < streams_.size(); ++i) {
      if (upload_ && streams_[i].fd.valid()) (void)epoll_.modify(streams_[i].fd.get(), EPOLLOUT, i);
    }
    const Clock::time_point start = Clock::now();
    if (!report_.interrupted && live_ > 0) {
      RAIL_TRY(loop(stop_fd, start + options_.duration, false));
    }
    report_.duration_s = std::chrono::duration<double>(Clock::now() - start).count();
    for (Stream& s : streams_) {
      int unacked = 0;  // written but not yet acknowledged by the receiver: not delivered
      if (upload_ && s.fd.valid() && ::ioctl(s.fd.get(), SIOCOUTQ, &unacked) == 0) {
        s.bytes -= std::min<uint64_t>(s.bytes, uint64_t(unacked));
      }
      report_.stream_bytes.push_back(s.bytes);
      report_.bytes += s.bytes;
    }
    return report_;
  }

 private:
  void open_stream(size_t i, SourcePicker& sources) {
    auto fd = make_socket(options_.target.family(), SOCK_STREAM);
    if (!fd) return fail(i, errno);
    if (!sources.empty() && !bind_source(fd->get(), sources.next(), true)) return fail(i, errno);
    if (!start_connect(fd->get(), options_.target)) return fail(i, errno);
    if (!epoll_.add(fd->get(), EPOLLOUT, i)) return fail(i, errno);
    streams_[i].fd = std::move(*fd);
    streams_[i].greeting = upload_ ? "SINK\n" : "SOURCE\n";
    ++live_;
  }

  void fail(size_t i, int err) {
    Stream& s = streams_[i];
    if (s.fd.valid()) {
      epoll_.remove(s.fd.get());
      s.fd.reset();
      --live_;
    }
    ++report_.errors[error_kind(err)];
  }

  // Runs until `until`, or (connect phase) until every live stream has connected.
  Status loop(int stop_fd, Clock::time_point until, bool connect_phase) {
    std::array<epoll_event, 64> events;
    while (live_ > 0 && !report_.interrupted) {
      if (connect_phase && connected_ == live_) return ok();
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
      if (ms <= 0) return ok();
      auto n = epoll_.wait(events.data(), int(events.size()), int(ms));
      if (!n) return n.error();
      for (int e = 0; e < *n; ++e) {
        if (events[e].data.u64 == kKeyStop) {
          report_.interrupted = read_stop_signal(stop_fd) != 0;
        } else {
          on_event(size_t(events[e].data.u64), connect_phase);
        }
      }
    }
    return ok();
  }

  void on_event(size_t i, bool connect_phase) {
    Stream& s = streams_[i];
    if (!s.fd.valid()) return;
    const int fd = s.fd.get();
    if (!s.connected) {
      if (int err = socket_error(fd); err != 0) return fail(i, err);
      ssize_t n = ::send(fd, s.greeting.data(), s.greeting.size(), MSG_NOSIGNAL);
      if (n != ssize_t(s.greeting.size())) return fail(i, n < 0 ? errno : EIO);
      s.connected = true;
      ++connected_;
      // Downloads drain from now on (unmeasured until the measured phase). Uploads wait
      // unwatched: a writable socket would wake the connect phase over and over.
      (void)epoll_.modify(fd, upload_ ? 0u : uint32_t(EPOLLIN), i);
      return;
    }
    if (connect_phase) {
      if (!upload_) drain(i, false);  // a SOURCE stream already sends: not measured
      return;
    }
    if (upload_) {
      static const std::string chunk(kChunk, 'u');
      for (int k = 0; k < 4; ++k) {
        ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) fail(i, errno);
          return;
        }
        s.bytes += uint64_t(n);
        if (size_t(n) < chunk.size()) return;
      }
      return;
    }
    drain(i, true);
  }

  void drain(size_t i, bool count) {
    Stream& s = streams_[i];
    static std::array<char, kChunk> buffer;
    for (int k = 0; k < 4; ++k) {
      ssize_t n = ::recv(s.fd.get(), buffer.data(), buffer.size(), 0);
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) fail(i, errno);
        return;
      }
      if (n == 0) return fail(i, ECONNRESET);  // the server never ends a SOURCE stream itself
      if (count) s.bytes += uint64_t(n);
      if (size_t(n) < buffer.size()) return;
    }
  }

  const TputOptions& options_;
  Epoll epoll_;
  std::vector<Stream> streams_;
  TputReport report_;
  bool upload_ = false;
  uint32_t live_ = 0;       // streams with an open socket
  uint32_t connected_ = 0;  // of those, connected and greeted
};

}  // namespace

Result<TputReport> run_tput(const TputOptions& options, int stop_fd) {
  auto epoll = Epoll::create();
  if (!epoll) return epoll.error();
  TputRun run(options, std::move(*epoll));
  return run.run(stop_fd);
}

nlohmann::ordered_json tput_json(const TputReport& report) {
  nlohmann::ordered_json j;
  j["target"] = report.target;
  j["direction"] = report.direction;
  j["streams"] = report.streams;
  j["duration_s"] = report.duration_s;
  j["bytes"] = report.bytes;
  j["bits_per_s"] = report.bits_per_s();
  j["per_stream"] = nlohmann::ordered_json::array();
  for (uint64_t bytes : report.stream_bytes) {
    const double bps = report.duration_s > 0 ? 8.0 * double(bytes) / report.duration_s : 0;
    j["per_stream"].push_back({{"bytes", bytes}, {"bits_per_s", bps}});
  }
  j["errors"] = nlohmann::ordered_json::object();
  for (const auto& [kind, count] : report.errors) j["errors"][kind] = count;
  if (report.interrupted) j["interrupted"] = true;
  return j;
}

std::string tput_text(const TputReport& report) {
  std::string out;
  for (size_t i = 0; i < report.stream_bytes.size(); ++i) {
    const double bps =
        report.duration_s > 0 ? 8.0 * double(report.stream_bytes[i]) / report.duration_s : 0;
    out += format("stream %-3zu %14llu bytes %10.3f Mbit/s\n", i,
                  (unsigned long long)report.stream_bytes[i], bps / 1e6);
  }
  out += format("target %s %s: %u streams, %.3f s, %llu bytes, %.3f Mbit/s%s\n",
                report.target.c_str(), report.direction.c_str(), report.streams, report.duration_s,
                (unsigned long long)report.bytes, report.bits_per_s() / 1e6,
                report.interrupted ? " (interrupted)" : "");
  for (const auto& [kind, count] : report.errors) {
    out += format("failed streams: %-20s %llu\n", kind.c_str(), (unsigned long long)count);
  }
  return out;
}

}  // namespace rail::traffic
