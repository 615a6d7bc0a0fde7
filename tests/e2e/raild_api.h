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
#include "tools/testbed/loopback_http.h"

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

using testbed::read_to_eof;

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
    auto reply = testbed::loopback_http(port, method, path, body);
    if (!reply) return reply.error();
    response.status = reply->status;
    response.body = std::move(reply->body);
    return ok();
  });
  if (!st) response.body = st.error().describe();
  return response;
}

}  // namespace rail::e2e
