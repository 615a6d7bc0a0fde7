// A minimal HTTP/1.1 client for 127.0.0.1 in the calling thread's network namespace: raild's
// API as the testbed and the e2e tests reach it from inside a node's namespace.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace rail::testbed {

struct HttpReply {
  int status = 0;
  std::string body;
};

// Reads `fd` until EOF, a timeout or an error: what arrived so far.
std::string read_to_eof(int fd);

// Sets SO_RCVTIMEO and SO_SNDTIMEO (the latter also bounds connect) to `ms`.
void set_socket_timeouts(int fd, int ms);

// connect(2) of `fd` to 127.0.0.1:`port`; kSystem naming the port.
Status connect_loopback(int fd, uint16_t port);

// One request to 127.0.0.1:`port` with "Connection: close", so the answer ends at EOF (raild's
// httplib answers these with Content-Length, never chunked). `timeout_ms` bounds connect, send
// and each receive. Errors: kSystem (socket, connect, send), kMalformed (no status line or
// header end in what came back).
Result<HttpReply> loopback_http(uint16_t port, const std::string& method, const std::string& path,
                                const std::string& body = "", int timeout_ms = 2000);

}  // namespace rail::testbed
