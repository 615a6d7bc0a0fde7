// loopback_http(): one HTTP/1.1 exchange over a blocking socket (see loopback_http.h).
#include "tools/testbed/loopback_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/unique_fd.h"

namespace rail::testbed {

std::string read_to_eof(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return out;
    out.append(buf, size_t(n));
  }
}

void set_socket_timeouts(int fd, int ms) {
  timeval t{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof(t));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t));
}

Status connect_loopback(int fd, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
    return make_error(ErrorCode::kSystem,
                      "connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
  return ok();
}

Result<HttpReply> loopback_http(uint16_t port, const std::string& method, const std::string& path,
                                const std::string& body, int timeout_ms) {
  auto system_error = [](const std::string& what) {
    return make_error(ErrorCode::kSystem, what + ": " + std::strerror(errno));
  };
  UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return system_error("socket");
  set_socket_timeouts(s.get(), timeout_ms);
  RAIL_TRY(connect_loopback(s.get(), port));
  const std::string request = method + " " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                              "Content-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  if (send(s.get(), request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
    return system_error("send");
  const std::string raw = read_to_eof(s.get());
  const size_t space = raw.find(' ');
  const size_t end = raw.find("\r\n\r\n");
  if (space == std::string::npos || end == std::string::npos)
    return make_error(ErrorCode::kMalformed, "not an HTTP response: " + raw.substr(0, 200));
  return HttpReply{std::atoi(raw.c_str() + space + 1), raw.substr(end + 4)};
}

}  // namespace rail::testbed
