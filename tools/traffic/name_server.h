// NameServer: the backend side of Rail's traffic tools. Answers every TCP line with
// "NAME LINE", serves a tiny HTTP page, sinks or sources bulk data, and echoes UDP datagrams
// prefixed with NAME — all from one thread with epoll and non-blocking sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/net/address.h"
#include "core/result.h"
#include "tools/traffic/event_loop.h"
#include "tools/traffic/socket_util.h"

namespace rail::traffic {

struct NameServerOptions {
  std::string name;  // non-empty, no whitespace: the first word of every answer
  uint16_t tcp_port = 8080;
  uint16_t udp_port = 8080;
  std::optional<IpAddress> bind;  // none: dual-stack "::" (falls back to 0.0.0.0 without IPv6)
};

// Totals over a run, for the stop log line.
struct NameServerStats {
  uint64_t tcp_connections = 0;  // accepted
  uint64_t udp_datagrams = 0;    // answered
  int stop_signal = 0;           // SIGTERM/SIGINT that ended run()
};

class NameServer {
 public:
  // Binds and listens (TCP) and binds (UDP). kInvalidArgument for a bad name; the OS error
  // (address in use, not available, permission) when a socket cannot be bound.
  static Result<NameServer> open(const NameServerOptions& options);
  NameServer(NameServer&&) = default;
  NameServer& operator=(NameServer&&) = default;
  ~NameServer();

  // Serves until `stop_fd` (a signalfd from make_stop_signal_fd) becomes readable; then closes
  // the listeners and every connection. Errors only when epoll itself fails.
  Result<NameServerStats> run(int stop_fd);

  // "[::]:8080/tcp [::]:8080/udp" for the start log line.
  std::string describe_listeners() const;

 private:
  enum class Mode { kDetect, kLines, kHttp, kSink, kSource };
  struct Connection {
    UniqueFd fd;
    Mode mode = Mode::kDetect;
    std::string in;   // bytes received and not yet answered
    std::string out;  // bytes to send; out_offset of them already sent
    size_t out_offset = 0;
    bool peer_closed = false;
    bool close_after_flush = false;
    bool saw_first_line = false;
    uint32_t interest = 0;  // epoll events currently registered
  };

  NameServer(NameServerOptions options, Epoll epoll, UniqueFd tcp, UniqueFd udp, Endpoint tcp_local,
             Endpoint udp_local);

  void accept_all();
  void serve_udp();
  void on_connection_event(int fd, uint32_t events);
  // Reads what is available; false when the connection was closed.
  bool read_from(Connection& c);
  void process_input(Connection& c);
  void answer_line(Connection& c, std::string_view line);
  // Writes what is pending (and the SOURCE pattern); false when the connection was closed.
  bool write_to(Connection& c);
  void update_interest(Connection& c);
  void close_connection(int fd);

  NameServerOptions options_;
  Epoll epoll_;
  UniqueFd tcp_;
  UniqueFd udp_;
  Endpoint tcp_local_;
  Endpoint udp_local_;
  std::unordered_map<int, Connection> connections_;
  bool accept_paused_ = false;  // out of file descriptors: listener unwatched until resume
  Clock::time_point accept_resume_;
  NameServerStats stats_;
};

}  // namespace rail::traffic
