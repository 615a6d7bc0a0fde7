// Socket plumbing for the traffic tools: endpoint parsing/formatting and thin syscall wrappers.
#include "tools/traffic/socket_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace rail::traffic {

Error errno_error(const std::string& what, int err) {
  ErrorCode code = ErrorCode::kSystem;
  if (err == EACCES || err == EPERM) code = ErrorCode::kPermission;
  if (err == EADDRNOTAVAIL || err == ENOENT) code = ErrorCode::kNotFound;
  if (err == EAFNOSUPPORT) code = ErrorCode::kUnsupported;
  Error error = make_error(code, what + ": " + std::strerror(err));
  errno = err;  // callers may still classify the failure by errno (error_kind)
  return error;
}

Error errno_error(const std::string& what) {
  return errno_error(what, errno);
}

Endpoint::Endpoint(const IpAddress& address, uint16_t port) : address_(address), port_(port) {}

Endpoint Endpoint::from_sockaddr(const sockaddr* sa, socklen_t length) {
  if (sa->sa_family == AF_INET && length >= socklen_t(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return Endpoint(IpAddress::v4(ntohl(in->sin_addr.s_addr)), ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6 && length >= socklen_t(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::array<uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &in6->sin6_addr, 16);
    return Endpoint(IpAddress::v6(bytes), ntohs(in6->sin6_port));
  }
  return Endpoint();
}

socklen_t Endpoint::to_sockaddr(sockaddr_storage& storage) const {
  std::memset(&storage, 0, sizeof(storage));
  if (address_.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port_);
    std::memcpy(&in->sin_addr, address_.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port_);
  std::memcpy(&in6->sin6_addr, address_.data(), 16);
  return sizeof(sockaddr_in6);
}

std::string Endpoint::to_string() const {
  if (address_.is_v4()) return address_.to_string() + ":" + std::to_string(port_);
  return "[" + address_.to_string() + "]:" + std::to_string(port_);
}

Result<uint16_t> parse_port(std::string_view text, const std::string& what) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    return make_error(ErrorCode::kInvalidArgument,
                      what + " '" + std::string(text) + "' is not a port number 1..65535");
  }
  return uint16_t(value);
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error(ErrorCode::kInvalidArgument,
                        "target '" + std::string(text) + "' is not [IPv6]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return make_error(ErrorCode::kInvalidArgument,
                        "target '" + std::string(text) +
                            "' is not ADDR:PORT (write IPv6 targets as [ADDR]:PORT)");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto address = IpAddress::parse(host);
  if (!address) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "target '" + std::string(text) + "': '" + std::string(host) + "' is not an IP address");
  }
  auto port_number = parse_port(port, "target '" + std::string(text) + "': port");
  if (!port_number) return port_number.error();
  return Endpoint(*address, *port_number);
}

Result<UniqueFd> make_socket(int family, int type) {
  UniqueFd fd(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno_error("socket");
  return fd;
}

Status bind_source(int fd, const IpAddress& source, bool tcp) {
  if (tcp) {
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  }
  sockaddr_storage storage;
  socklen_t length = Endpoint(source, 0).to_sockaddr(storage);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return errno_error("bind source " + source.to_string());
  }
  return ok();
}

Status start_connect(int fd, const Endpoint& target) {
  sockaddr_storage storage;
  socklen_t length = target.to_sockaddr(storage);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 && errno != EINPROGRESS) {
    return errno_error("connect " + target.to_string());
  }
  return ok();
}

int socket_error(int fd) {
  int err = 0;
  socklen_t length = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &length) != 0) return errno;
  return err;
}

void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);  // best effort: the old limit still works for fewer fds
  }
}

std::string error_kind(int err) {
  switch (err) {
    case ECONNREFUSED:
      return "refused";
    case ECONNRESET:
      return "reset";
    case EPIPE:
      return "reset";
    case ETIMEDOUT:
      return "timeout";
    case EHOSTUNREACH:
      return "unreachable";
    case ENETUNREACH:
      return "unreachable";
    case EADDRNOTAVAIL:
      return "addr-not-available";
    case EADDRINUSE:
      return "addr-in-use";
    case EMFILE:
      return "too-many-files";
    case ENFILE:
      return "too-many-files";
    default:
      return "errno-" + std::to_string(err);
  }
}

}  // namespace rail::traffic
