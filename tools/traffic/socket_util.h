// Socket plumbing shared by the traffic tools: endpoints ("ADDR:PORT",
// "[v6]:port"), errno -> Error, non-blocking sockets bound to a chosen source address.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/net/address.h"
#include "core/result.h"
#include "core/unique_fd.h"

namespace rail::traffic {

// "<what>: <strerror(errno)>"; EACCES/EPERM -> kPermission, EADDRNOTAVAIL/ENOENT -> kNotFound,
// EAFNOSUPPORT -> kUnsupported, everything else kSystem. Reads errno, so call it right after the
// failed call; errno is left as it was (callers may still classify it with error_kind).
Error errno_error(const std::string& what);
Error errno_error(const std::string& what, int err);

// An IPv4 or IPv6 socket address (port in host order in the accessors).
class Endpoint {
 public:
  Endpoint() = default;
  Endpoint(const IpAddress& address, uint16_t port);
  // From a kernel-filled sockaddr (accept, recvfrom); v4-mapped IPv6 addresses stay IPv6.
  static Endpoint from_sockaddr(const sockaddr* sa, socklen_t length);

  IpAddress address() const { return address_; }
  uint16_t port() const { return port_; }
  int family() const { return address_.is_v4() ? AF_INET : AF_INET6; }
  // The sockaddr for bind/connect/sendto; `storage` must outlive the pointer use.
  socklen_t to_sockaddr(sockaddr_storage& storage) const;
  // "198.18.0.1:80", "[2001:db8::1]:80".
  std::string to_string() const;

 private:
  IpAddress address_;
  uint16_t port_ = 0;
};

// Parses "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6); port 1..65535.
Result<Endpoint> parse_endpoint(std::string_view text);
// Parses a port number 1..65535 ("what" names the option in the message).
Result<uint16_t> parse_port(std::string_view text, const std::string& what);

// A non-blocking, close-on-exec socket of `type` (SOCK_STREAM/SOCK_DGRAM) for `family`.
Result<UniqueFd> make_socket(int family, int type);
// Binds `fd` to source:0 (kernel-chosen port). IP_BIND_ADDRESS_NO_PORT is set for TCP so the
// port is picked at connect() time from the full 4-tuple space (many connections per source).
Status bind_source(int fd, const IpAddress& source, bool tcp);
// Starts a non-blocking connect: ok when connected or in progress (EINPROGRESS).
Status start_connect(int fd, const Endpoint& target);
// The pending error of a socket (SO_ERROR): 0 when none.
int socket_error(int fd);

// Raises RLIMIT_NOFILE's soft limit to the hard limit (thousands of connections).
void raise_fd_limit();

// Short names for the ways a connection fails, used as JSON keys and in summaries:
// "refused", "reset", "timeout", "unreachable", "addr-not-available", "eof", or "errno-N".
std::string error_kind(int err);

}  // namespace rail::traffic
