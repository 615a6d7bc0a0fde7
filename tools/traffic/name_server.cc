// NameServer: listeners, the per-connection state machine (detect -> lines | HTTP | SINK |
// SOURCE) and the UDP echo, on one level-triggered epoll loop.
#include "tools/traffic/name_server.h"

#include <netinet/in.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace rail::traffic {
namespace {

constexpr uint64_t kKeyStop = 1ULL << 62;
constexpr uint64_t kKeyTcpListener = kKeyStop + 1;
constexpr uint64_t kKeyUdp = kKeyStop + 2;
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kMaxReadsPerEvent = 16;          // fairness between busy connections
constexpr size_t kMaxPendingOutput = 4 << 20;  // stop reading a client that does not read
constexpr size_t kMaxLine = 1 << 20;           // a "line" longer than this closes the connection
constexpr size_t kMaxHttpRequest = 16 * 1024;

// The SOURCE pattern: printable, repeating, so a capture is easy to read.
const std::string& source_pattern() {
  static const std::string pattern = [] {
    std::string p;
    p.reserve(kReadChunk);
    while (p.size() < kReadChunk) p += "rail-nameserver SOURCE pattern 0123456789abcdef\n";
    p.resize(kReadChunk);
    return p;
  }();
  return pattern;
}

bool is_prefix_of(std::string_view text, std::string_view word) {
  return text.size() < word.size() && word.substr(0, text.size()) == text;
}

// A listening/bound socket of `type` on address:port; SO_REUSEADDR for TCP.
Result<UniqueFd> bind_listener(int type, const IpAddress& address, uint16_t port, bool dual_stack) {
  auto fd = make_socket(address.is_v4() ? AF_INET : AF_INET6, type);
  if (!fd) return fd.error();
  int one = 1;
  int zero = 0;
  if (type == SOCK_STREAM) setsockopt(fd->get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (address.is_v6()) {
    setsockopt(fd->get(), IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &zero : &one, sizeof(int));
    setsockopt(fd->get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
  }
  // UDP replies must leave from the address the datagram was sent to (a VIP on lo under
  // direct server return), not from whatever the route prefers: remember it per datagram.
  if (type == SOCK_DGRAM) setsockopt(fd->get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
  Endpoint local(address, port);
  sockaddr_storage storage;
  socklen_t length = local.to_sockaddr(storage);
  const char* proto = type == SOCK_STREAM ? "/tcp" : "/udp";
  if (::bind(fd->get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return errno_error("cannot bind " + local.to_string() + proto);
  }
  if (type == SOCK_STREAM && ::listen(fd->get(), SOMAXCONN) != 0) {
    return errno_error("cannot listen on " + local.to_string() + proto);
  }
  return fd;
}

// Binds on the requested address, or on dual-stack "::" falling back to 0.0.0.0 on hosts
// without IPv6.
Result<UniqueFd> open_listener(int type, const std::optional<IpAddress>& bind, uint16_t port,
                               Endpoint& local) {
  if (bind) {
    local = Endpoint(*bind, port);
    return bind_listener(type, *bind, port, false);
  }
  local = Endpoint(IpAddress::v6({}), port);
  auto v6 = bind_listener(type, local.address(), port, true);
  if (v6) return v6;
  // No IPv6 in this kernel/namespace (EAFNOSUPPORT) or IPv6 disabled (EADDRNOTAVAIL).
  if (v6.error().code != ErrorCode::kUnsupported && v6.error().code != ErrorCode::kNotFound) {
    return v6.error();
  }
  local = Endpoint(IpAddress::v4(0u), port);
  return bind_listener(type, local.address(), port, false);
}

}  // namespace

Result<NameServer> NameServer::open(const NameServerOptions& options) {
  if (options.name.empty() || options.name.find_first_of(" \t\r\n") != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "name '" + options.name + "' must be one non-empty word");
  }
  auto epoll = Epoll::create();
  if (!epoll) return epoll.error();
  Endpoint tcp_local;
  Endpoint udp_local;
  auto tcp = open_listener(SOCK_STREAM, options.bind, options.tcp_port, tcp_local);
  if (!tcp) return tcp.error();
  auto udp = open_listener(SOCK_DGRAM, options.bind, options.udp_port, udp_local);
  if (!udp) return udp.error();
  RAIL_TRY(epoll->add(tcp->get(), EPOLLIN, kKeyTcpListener));
  RAIL_TRY(epoll->add(udp->get(), EPOLLIN, kKeyUdp));
  return NameServer(options, std::move(*epoll), std::move(*tcp), std::move(*udp), tcp_local,
                    udp_local);
}

NameServer::NameServer(NameServerOptions options, Epoll epoll, UniqueFd tcp, UniqueFd udp,
                       Endpoint tcp_local, Endpoint udp_local)
    : options_(std::move(options)),
      epoll_(std::move(epoll)),
      tcp_(std::move(tcp)),
      udp_(std::move(udp)),
      tcp_local_(tcp_local),
      udp_local_(udp_local) {}

NameServer::~NameServer() = default;

std::string NameServer::describe_listeners() const {
  return tcp_local_.to_string() + "/tcp " + udp_local_.to_string() + "/udp";
}

Result<NameServerStats> NameServer::run(int stop_fd) {
  RAIL_TRY(epoll_.add(stop_fd, EPOLLIN, kKeyStop));
  std::array<epoll_event, 256> events;
  while (stats_.stop_signal == 0) {
    int timeout_ms = -1;
    if (accept_paused_) {  // out of fds: retry accepting once some connections may have closed
      auto left = std::chrono::ceil<std::chrono::milliseconds>(accept_resume_ - Clock::now());
      if (left.count() <= 0) {
        accept_paused_ = false;
        (void)epoll_.modify(tcp_.get(), EPOLLIN, kKeyTcpListener);
      } else {
        timeout_ms = int(left.count());
      }
    }
    auto n = epoll_.wait(events.data(), int(events.size()), timeout_ms);
    if (!n) return n.error();
    for (int i = 0; i < *n; ++i) {
      uint64_t key = events[i].data.u64;
      if (key == kKeyStop) {
        stats_.stop_signal = read_stop_signal(stop_fd);
      } else if (key == kKeyTcpListener) {
        accept_all();
      } else if (key == kKeyUdp) {
        serve_udp();
      } else {
        on_connection_event(int(key), events[i].events);
      }
    }
  }
  epoll_.remove(stop_fd);
  connections_.clear();  // closes every connection
  tcp_.reset();
  udp_.reset();
  return stats_;
}

void NameServer::accept_all() {
  while (true) {
    int fd = ::accept4(tcp_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // The listener stays readable: stop watching it for a while instead of spinning.
        // Waiting clients stay in the backlog.
        accept_paused_ = true;
        accept_resume_ = Clock::now() + std::chrono::milliseconds(100);
        (void)epoll_.modify(tcp_.get(), 0, kKeyTcpListener);
      }
      return;  // EAGAIN: all accepted
    }
    Connection c;
    c.fd = UniqueFd(fd);
    c.interest = EPOLLIN;
    if (!epoll_.add(fd, c.interest, uint64_t(fd))) continue;  // c's destructor closes fd
    connections_.emplace(fd, std::move(c));
    ++stats_.tcp_connections;
  }
}

void NameServer::serve_udp() {
  std::array<char, 65536> buffer;
  const std::string prefix = options_.name + " ";
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage peer;
    alignas(cmsghdr) std::array<char, 256> control;
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_name = &peer;
    msg.msg_namelen = sizeof(peer);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t n = ::recvmsg(udp_.get(), &msg, 0);
    if (n < 0) return;
    // Reply from the datagram's own destination address: echo its pktinfo back as the source.
    alignas(cmsghdr) std::array<char, 256> reply_control{};
    size_t reply_control_length = 0;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
      cmsghdr* out = reinterpret_cast<cmsghdr*>(reply_control.data());
      if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(cm), sizeof(info));
        in_pktinfo reply{};
        reply.ipi_spec_dst = info.ipi_addr;
        out->cmsg_level = IPPROTO_IP;
        out->cmsg_type = IP_PKTINFO;
        out->cmsg_len = CMSG_LEN(sizeof(reply));
        std::memcpy(CMSG_DATA(out), &reply, sizeof(reply));
        reply_control_length = CMSG_SPACE(sizeof(reply));
      } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info;
        std::memcpy(&info, CMSG_DATA(cm), sizeof(info));
        info.ipi6_ifindex = 0;
        out->cmsg_level = IPPROTO_IPV6;
        out->cmsg_type = IPV6_PKTINFO;
        out->cmsg_len = CMSG_LEN(sizeof(info));
        std::memcpy(CMSG_DATA(out), &info, sizeof(info));
        reply_control_length = CMSG_SPACE(sizeof(info));
      }
    }
    std::array<iovec, 2> reply_iov{iovec{const_cast<char*>(prefix.data()), prefix.size()},
                                   iovec{buffer.data(), size_t(n)}};
    msghdr reply{};
    reply.msg_name = &peer;
    reply.msg_namelen = msg.msg_namelen;
    reply.msg_iov = reply_iov.data();
    reply.msg_iovlen = reply_iov.size();
    if (reply_control_length > 0) {
      reply.msg_control = reply_control.data();
      reply.msg_controllen = reply_control_length;
    }
    if (::sendmsg(udp_.get(), &reply, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) ++stats_.udp_datagrams;
  }
}

void NameServer::on_connection_event(int fd, uint32_t events) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& c = it->second;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    if (!read_from(c)) return close_connection(fd);
    process_input(c);
  }
  if (!write_to(c)) return close_connection(fd);
  if (c.peer_closed && (c.mode == Mode::kSink || c.mode == Mode::kSource)) {
    return close_connection(fd);
  }
  if ((c.peer_closed || c.close_after_flush) && c.out_offset == c.out.size()) {
    return close_connection(fd);
  }
  update_interest(c);
}

bool NameServer::read_from(Connection& c) {
  std::array<char, kReadChunk> buffer;
  for (int i = 0; i < kMaxReadsPerEvent && !c.peer_closed; ++i) {
    if (c.out.size() - c.out_offset > kMaxPendingOutput) return true;  // let the client read
    ssize_t n = ::recv(c.fd.get(), buffer.data(), buffer.size(), 0);
    if (n > 0) {
      // SINK and SOURCE discard what they read; an HTTP request is complete once answered.
      if (c.mode == Mode::kSink || c.mode == Mode::kSource || c.close_after_flush) continue;
      c.in.append(buffer.data(), size_t(n));
      if (size_t(n) < buffer.size()) return true;
    } else if (n == 0) {
      c.peer_closed = true;
    } else {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
  }
  return true;
}

void NameServer::process_input(Connection& c) {
  if (c.mode == Mode::kDetect) {
    std::string_view in = c.in;
    if (in.starts_with("GET ") || in.starts_with("HEAD ")) {
      c.mode = Mode::kHttp;
    } else if ((is_prefix_of(in, "GET ") || is_prefix_of(in, "HEAD ")) && !c.peer_closed) {
      return;  // wait for more bytes to decide
    } else {
      c.mode = Mode::kLines;
    }
  }
  if (c.mode == Mode::kHttp) {
    if (c.close_after_flush) return;
    size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) end = c.in.find("\n\n");
    if (end == std::string::npos) {
      if (c.in.size() > kMaxHttpRequest || c.peer_closed) c.close_after_flush = true;
      return;
    }
    const bool head = c.in.starts_with("HEAD ");
    const std::string body = options_.name + "\n";
    c.out += "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    if (!head) c.out += body;
    c.in.clear();
    c.close_after_flush = true;
    return;
  }
  if (c.mode != Mode::kLines) return;
  size_t start = 0;
  while (true) {
    size_t newline = c.in.find('\n', start);
    if (newline == std::string::npos) break;
    std::string_view line(c.in.data() + start, newline - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = newline + 1;
    if (!c.saw_first_line && (line == "SINK" || line == "SOURCE")) {
      c.mode = line == "SINK" ? Mode::kSink : Mode::kSource;
      c.in.clear();
      return;
    }
    c.saw_first_line = true;
    answer_line(c, line);
  }
  c.in.erase(0, start);
  if (c.peer_closed && !c.in.empty()) {  // an unterminated last line is still answered
    answer_line(c, c.in);
    c.in.clear();
  }
  if (c.in.size() > kMaxLine) c.close_after_flush = true;
}

void NameServer::answer_line(Connection& c, std::string_view line) {
  c.out += options_.name;
  c.out += ' ';
  c.out += line;
  c.out += '\n';
}

bool NameServer::write_to(Connection& c) {
  if (c.mode == Mode::kSource && !c.peer_closed) {
    const std::string& pattern = source_pattern();
    for (int i = 0; i < kMaxReadsPerEvent; ++i) {
      ssize_t n = ::send(c.fd.get(), pattern.data(), pattern.size(), MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      if (size_t(n) < pattern.size()) return true;  // socket buffer full
    }
    return true;
  }
  while (c.out_offset < c.out.size()) {
    ssize_t n =
        ::send(c.fd.get(), c.out.data() + c.out_offset, c.out.size() - c.out_offset, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.out_offset += size_t(n);
  }
  c.out.clear();
  c.out_offset = 0;
  return true;
}

void NameServer::update_interest(Connection& c) {
  uint32_t interest = 0;
  bool output_pending = c.out_offset < c.out.size() || c.mode == Mode::kSource;
  if (!c.peer_closed && c.out.size() - c.out_offset <= kMaxPendingOutput) interest |= EPOLLIN;
  if (output_pending) interest |= EPOLLOUT;
  if (interest != c.interest) {
    c.interest = interest;
    (void)epoll_.modify(c.fd.get(), interest, uint64_t(c.fd.get()));
  }
}

void NameServer::close_connection(int fd) {
  epoll_.remove(fd);
  connections_.erase(fd);
}

}  // namespace rail::traffic
