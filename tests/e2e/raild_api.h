// Talking to a live raild's HTTP API from inside its namespace: one request, one response.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/result.h"
#include "dataplane/libbpf_error.h"
#include "e2e_sockets.h"
#include "netns.h"

namespace rail::e2e {

// A TCP socket with bounded blocking calls (connect included: SO_SNDTIMEO), created on the
// calling thread, so in that thread's namespace.
inline Result<UniqueFd> tcp_socket(int timeout_ms) {
  UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return dataplane::errno_error("socket");
  int one = 1;
  setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  timeval timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  return s;
}

// Reads until EOF (or timeout / error: what arrived so far).
inline std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return out;
    out.append(buf, size_t(n));
  }
}

struct HttpResponse {
  int status = 0;  // 0: not reachable (body says why)
  std::string body;
};

// One HTTP/1.1 request to 127.0.0.1:`port` in `ns` (Connection: close, so the response ends at
// EOF; raild's httplib answers with Content-Length, never chunked, for these).
inline HttpResponse http_request(const Netns& ns, uint16_t port, const std::string& method,
                                 const std::string& path, const std::string& body = "") {
  HttpResponse response;
  Status st = ns.run([&]() -> Status {
    auto s = tcp_socket(2000);
    if (!s) return s.error();
    sockaddr_in api = sockaddr_v4("127.0.0.1", port);
    if (connect(s->get(), reinterpret_cast<sockaddr*>(&api), sizeof(api)) != 0)
      return dataplane::errno_error("connect api");
    const std::string request = method + " " + path +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                                "Content-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    if (send(s->get(), request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
      return dataplane::errno_error("send api");
    const std::string raw = read_all(s->get());
    const size_t space = raw.find(' ');
    const size_t end = raw.find("\r\n\r\n");
    if (space == std::string::npos || end == std::string::npos)
      return make_error(ErrorCode::kSystem, "bad HTTP response: " + raw);
    response.status = std::atoi(raw.c_str() + space + 1);
    response.body = raw.substr(end + 4);
    return ok();
  });
  if (!st) response.body = st.error().describe();
  return response;
}

}  // namespace rail::e2e
