// TlsSession: an OpenSSL client session over a connected non-blocking probe socket, driven
// by the probe's deadline (handshake, then a ByteStream for the HTTP exchange).
#pragma once

#include <memory>
#include <string>

#include "daemon/health/byte_stream.h"

typedef struct ssl_st SSL;

namespace rail::health {

class TlsSession final : public ByteStream {
 public:
  // `server_name`: SNI (omitted for IP literals, as RFC 6066 requires) and, with `verify`, the
  // name or IP the certificate must match. The socket fd is not owned.
  static Result<TlsSession> create(int fd, const std::string& server_name, bool verify);
  TlsSession(TlsSession&&) noexcept;
  TlsSession& operator=(TlsSession&&) noexcept;
  ~TlsSession() override;

  MaybeFailure handshake(const ProbeContext& ctx);
  MaybeFailure write_all(std::string_view bytes, const ProbeContext& ctx) override;
  MaybeFailure read_some(char* buffer, size_t capacity, size_t& got,
                         const ProbeContext& ctx) override;
  // Best-effort close_notify (one non-blocking attempt: a check never waits for it).
  void close_notify();

 private:
  struct SslFree {
    void operator()(SSL* ssl) const;
  };
  TlsSession(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  // After an SSL call returned `ret` <= 0: nullopt = wait done, retry; else why it failed.
  MaybeFailure wait_or_fail(int ret, const ProbeContext& ctx, const char* what);

  int fd_ = -1;
  std::unique_ptr<SSL, SslFree> ssl_;
};

}  // namespace rail::health
