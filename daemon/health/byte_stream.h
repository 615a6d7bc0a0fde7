// ByteStream: the transport an HTTP check talks over (a plain socket or a TLS session), so the
// HTTP exchange is written once for both http and https checks.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "daemon/health/health_spec.h"
#include "daemon/health/probe_io.h"

namespace rail::health {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  virtual MaybeFailure write_all(std::string_view bytes, const ProbeContext& ctx) = 0;
  // got = 0 means the peer closed the stream.
  virtual MaybeFailure read_some(char* buffer, size_t capacity, size_t& got,
                                 const ProbeContext& ctx) = 0;
};

// A connected non-blocking socket (not owned).
class SocketStream final : public ByteStream {
 public:
  explicit SocketStream(int fd) : fd_(fd) {}
  MaybeFailure write_all(std::string_view bytes, const ProbeContext& ctx) override {
    return send_all(fd_, bytes, ctx);
  }
  MaybeFailure read_some(char* buffer, size_t capacity, size_t& got,
                         const ProbeContext& ctx) override {
    return recv_some(fd_, buffer, capacity, got, ctx);
  }

 private:
  int fd_;
};

// Sends the check request and reads the response head (bounded by kMaxResponseHead). On
// success `detail` is "HTTP 200"; a status other than spec.expect_status is a failure.
MaybeFailure http_exchange(ByteStream& stream, const HealthCheckSpec& spec,
                           const ProbeTarget& target, const ProbeContext& ctx, std::string& detail);

}  // namespace rail::health
