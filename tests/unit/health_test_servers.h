// Test support for the health-check tests: real TCP/HTTP/HTTPS/UDP servers in a namespace.
//
// Each TestServer owns a socket created inside a TestNetns and serves it on its own thread
// until destroyed (an eventfd stops the thread; every blocking read has a 1 s SO_RCVTIMEO).
// The HTTPS server uses a self-signed P-256 certificate generated in memory.
#pragma once

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <atomic>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "health_test_netns.h"

namespace rail::health::testing {

enum class ServerKind { kTcp, kHttp, kHttps, kHang, kUdpEcho };

struct ServerConfig {
  ServerConfig(ServerKind k, std::map<std::string, int> s = {}) : kind(k), statuses(std::move(s)) {}
  ServerKind kind;
  std::map<std::string, int> statuses;  // HTTP(S): path -> status; other paths get 404
  const char* address = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port
};

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// A server context with a fresh self-signed certificate (CN=rail-test, valid for a day).
inline std::unique_ptr<SSL_CTX, SslCtxFree> self_signed_server_ctx() {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!key || !cert) return nullptr;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("rail-test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return nullptr;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx || SSL_CTX_use_certificate(ctx.get(), cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1) {
    return nullptr;
  }
  return ctx;
}

class TestServer {
 public:
  static Result<std::unique_ptr<TestServer>> start(const TestNetns& ns, ServerConfig config) {
    // The server's SSL_shutdown may write to a client that already closed: EPIPE, not a signal.
    signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<TestServer> server(new TestServer(std::move(config)));
    if (server->config_.kind == ServerKind::kHttps) {
      server->tls_ = self_signed_server_ctx();
      if (!server->tls_) return make_error(ErrorCode::kInternal, "self-signed certificate");
    }
    Status opened = ns.run([&]() -> Status { return server->open_socket(); });
    if (!opened) return opened.error();
    server->thread_ = std::thread([s = server.get()] { s->serve(); });
    return server;
  }

  ~TestServer() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_.get(), &one, sizeof(one));
    if (thread_.joinable()) thread_.join();
  }

  uint16_t port() const { return port_; }
  int served() const { return served_.load(); }
  std::string last_peer() const {
    std::lock_guard lock(mu_);
    return last_peer_;
  }

 private:
  explicit TestServer(ServerConfig config)
      : config_(std::move(config)), stop_(eventfd(0, EFD_CLOEXEC)) {}

  Status open_socket() {
    bool udp = config_.kind == ServerKind::kUdpEcho;
    fd_.reset(socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    int one = 1;
    setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(config_.port);
    inet_pton(AF_INET, config_.address, &sin.sin_addr);
    if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0 ||
        (!udp && listen(fd_.get(), 64) != 0)) {
      return make_error(ErrorCode::kSystem, std::string("server bind/listen: ") + strerror(errno));
    }
    socklen_t len = sizeof(sin);
    getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
    return ok();
  }

  void serve() {
    std::vector<UniqueFd> held;  // kHang: accepted, never answered
    for (;;) {
      pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents) return;
      if (!fds[0].revents) continue;
      sockaddr_in peer{};
      socklen_t len = sizeof(peer);
      if (config_.kind == ServerKind::kUdpEcho) {
        char buf[512];
        ssize_t n =
            recvfrom(fd_.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer), &len);
        if (n < 0) continue;
        note_peer(peer);
        sendto(fd_.get(), buf, n, 0, reinterpret_cast<sockaddr*>(&peer), len);
        continue;
      }
      UniqueFd conn(accept4(fd_.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
      if (!conn.valid()) continue;
      note_peer(peer);
      timeval tv{1, 0};
      setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      switch (config_.kind) {
        case ServerKind::kHang:
          held.push_back(std::move(conn));
          break;
        case ServerKind::kHttp:
          serve_http(conn.get(), nullptr);
          break;
        case ServerKind::kHttps:
          serve_https(conn.get());
          break;
        default:
          break;  // kTcp: the accept was the whole exchange
      }
    }
  }

  void serve_https(int fd) {
    std::unique_ptr<SSL, SslFree> ssl(SSL_new(tls_.get()));
    SSL_set_fd(ssl.get(), fd);
    if (SSL_accept(ssl.get()) != 1) return;  // e.g. a verifying client refused our cert
    serve_http(fd, ssl.get());
    SSL_shutdown(ssl.get());
  }

  void serve_http(int fd, SSL* ssl) {
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
      int n =
          ssl ? SSL_read(ssl, buf, sizeof(buf)) : static_cast<int>(recv(fd, buf, sizeof(buf), 0));
      if (n <= 0) return;
      request.append(buf, n);
    }
    size_t sp1 = request.find(' ');
    size_t sp2 = request.find(' ', sp1 + 1);
    std::string path = request.substr(sp1 + 1, sp2 - sp1 - 1);
    auto it = config_.statuses.find(path);
    int status = it == config_.statuses.end() ? 404 : it->second;
    std::string response = "HTTP/1.1 " + std::to_string(status) +
                           " Test\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
    if (ssl) {
      SSL_write(ssl, response.data(), static_cast<int>(response.size()));
    } else {
      send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    }
  }

  void note_peer(const sockaddr_in& peer) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text));
    std::lock_guard lock(mu_);
    last_peer_ = text;
    served_++;
  }

  ServerConfig config_;
  UniqueFd stop_;
  UniqueFd fd_;
  uint16_t port_ = 0;
  std::unique_ptr<SSL_CTX, SslCtxFree> tls_;
  std::thread thread_;
  std::atomic<int> served_{0};
  mutable std::mutex mu_;
  std::string last_peer_;
};

// Base fixture: a private namespace per test (skipped without CAP_SYS_ADMIN) and servers in it.
class ServersInNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ns = TestNetns::create();
    if (!ns) GTEST_SKIP() << "needs CAP_SYS_ADMIN for a network namespace: " << ns.error().message;
    ns_.emplace(std::move(*ns));
  }

  std::unique_ptr<TestServer> serve(ServerConfig config) {
    auto server = TestServer::start(*ns_, std::move(config));
    EXPECT_TRUE(server) << server.error().describe();
    return server ? std::move(*server) : nullptr;
  }

  std::optional<TestNetns> ns_;
};

}  // namespace rail::health::testing
