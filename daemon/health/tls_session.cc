// OpenSSL plumbing for https checks: shared client contexts, a MSG_NOSIGNAL socket BIO, and
// non-blocking handshake/read/write loops bounded by the probe deadline.
#include "daemon/health/tls_session.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace rail::health {
namespace {

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct MethodFree {
  void operator()(BIO_METHOD* method) const { BIO_meth_free(method); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

int fd_of(BIO* bio) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio)));
}

// OpenSSL's own socket BIO uses write(2): a peer that reset the connection would raise
// SIGPIPE in the daemon. This BIO uses send(MSG_NOSIGNAL) and recv instead.
int bio_write(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  ssize_t n = ::send(fd_of(bio), data, static_cast<size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_write(bio);
  }
  return static_cast<int>(n);
}

int bio_read(BIO* bio, char* out, int len) {
  BIO_clear_retry_flags(bio);
  ssize_t n = ::recv(fd_of(bio), out, static_cast<size_t>(len), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_read(bio);
  }
  return static_cast<int>(n);
}

long bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// Built once per process: loading the system CA store for every check would cost far more
// than the check. SSL_CTX is safe to share across threads once configured.
struct TlsShared {
  CtxPtr no_verify;
  CtxPtr verify;
  std::unique_ptr<BIO_METHOD, MethodFree> bio_method;
  std::string error;  // non-empty = setup failed; every https probe reports it

  TlsShared() {
    BIO_METHOD* method =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rail probe socket");
    bio_method.reset(method);
    if (!method || !BIO_meth_set_write(method, bio_write) || !BIO_meth_set_read(method, bio_read) ||
        !BIO_meth_set_ctrl(method, bio_ctrl) || !BIO_meth_set_create(method, bio_create)) {
      error = "cannot create the OpenSSL BIO method";
      return;
    }
    no_verify.reset(SSL_CTX_new(TLS_client_method()));
    verify.reset(SSL_CTX_new(TLS_client_method()));
    if (!no_verify || !verify) {
      error = "SSL_CTX_new failed";
      return;
    }
    for (SSL_CTX* ctx : {no_verify.get(), verify.get()}) {
      SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    }
    SSL_CTX_set_verify(no_verify.get(), SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_verify(verify.get(), SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(verify.get()) != 1) {
      error = "cannot load the system CA certificates";
    }
  }
};

const TlsShared& shared() {
  static const TlsShared instance;
  return instance;
}

bool is_ip_literal(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

std::string openssl_error_text() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "TLS error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

}  // namespace

void TlsSession::SslFree::operator()(SSL* ssl) const {
  SSL_free(ssl);
}

TlsSession::TlsSession(TlsSession&&) noexcept = default;
TlsSession& TlsSession::operator=(TlsSession&&) noexcept = default;
TlsSession::~TlsSession() = default;

Result<TlsSession> TlsSession::create(int fd, const std::string& server_name, bool verify) {
  const TlsShared& tls = shared();
  if (!tls.error.empty()) return make_error(ErrorCode::kSystem, tls.error);
  ERR_clear_error();
  TlsSession session(fd, SSL_new(verify ? tls.verify.get() : tls.no_verify.get()));
  if (!session.ssl_) return make_error(ErrorCode::kSystem, "SSL_new: " + openssl_error_text());
  BIO* bio = BIO_new(tls.bio_method.get());
  if (!bio) return make_error(ErrorCode::kSystem, "BIO_new: " + openssl_error_text());
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  SSL_set_bio(session.ssl_.get(), bio, bio);  // the SSL owns the BIO from here on
  SSL* ssl = session.ssl_.get();
  bool ip = is_ip_literal(server_name);
  if (!ip && SSL_set_tlsext_host_name(ssl, server_name.c_str()) != 1) {
    return make_error(ErrorCode::kInvalidArgument, "TLS server name '" + server_name + "'");
  }
  if (verify) {
    int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name.c_str())
                 : SSL_set1_host(ssl, server_name.c_str());
    if (set != 1) {
      return make_error(ErrorCode::kInvalidArgument,
                        "cannot verify against name '" + server_name + "'");
    }
  }
  return session;
}

MaybeFailure TlsSession::wait_or_fail(int ret, const ProbeContext& ctx, const char* what) {
  int saved_errno = errno;
  switch (SSL_get_error(ssl_.get(), ret)) {
    case SSL_ERROR_WANT_READ:
      return wait_for(fd_, POLLIN, ctx, what);
    case SSL_ERROR_WANT_WRITE:
      return wait_for(fd_, POLLOUT, ctx, what);
    case SSL_ERROR_ZERO_RETURN:
      return remote_failure(std::string(what) + ": TLS closed by peer");
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        return saved_errno != 0 && ret < 0
                   ? errno_failure(false, what, saved_errno)
                   : remote_failure(std::string(what) + ": connection closed by peer");
      }
      break;
    default:
      break;
  }
  long verify_result = SSL_get_verify_result(ssl_.get());
  if (verify_result != X509_V_OK) {
    return remote_failure(std::string(what) + ": certificate verify failed: " +
                          X509_verify_cert_error_string(verify_result));
  }
  return remote_failure(std::string(what) + ": " + openssl_error_text());
}

MaybeFailure TlsSession::handshake(const ProbeContext& ctx) {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int ret = SSL_connect(ssl_.get());
    if (ret == 1) return std::nullopt;
    if (auto failure = wait_or_fail(ret, ctx, "TLS handshake")) return failure;
  }
}

MaybeFailure TlsSession::write_all(std::string_view bytes, const ProbeContext& ctx) {
  while (!bytes.empty()) {
    ERR_clear_error();
    errno = 0;
    size_t written = 0;
    int ret = SSL_write_ex(ssl_.get(), bytes.data(), bytes.size(), &written);
    if (ret == 1) {
      bytes.remove_prefix(written);
      continue;
    }
    if (auto failure = wait_or_fail(ret, ctx, "TLS write")) return failure;
  }
  return std::nullopt;
}

MaybeFailure TlsSession::read_some(char* buffer, size_t capacity, size_t& got,
                                   const ProbeContext& ctx) {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int ret = SSL_read_ex(ssl_.get(), buffer, capacity, &got);
    if (ret == 1) return std::nullopt;
    int error = SSL_get_error(ssl_.get(), ret);
    // A clean close_notify, or a plain FIN after the head (common): end of stream, not an error.
    if (error == SSL_ERROR_ZERO_RETURN ||
        (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)) {
      got = 0;
      return std::nullopt;
    }
    if (auto failure = wait_or_fail(ret, ctx, "TLS read")) return failure;
  }
}

void TlsSession::close_notify() {
  ERR_clear_error();
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

}  // namespace rail::health
