// A real TCP server in a backend namespace: answers every connection with its name and closes.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "core/result.h"
#include "dataplane/libbpf_error.h"
#include "e2e_sockets.h"
#include "netns.h"
#include "raild_api.h"

namespace rail::e2e {

// The listener (0.0.0.0:port: the VIP on lo and the health-check address) is created in the
// namespace; accept() then works from any thread.
class BackendServer {
 public:
  BackendServer(const Netns& ns, std::string name, uint16_t port)
      : ns_(ns), name_(std::move(name)), port_(port) {}
  ~BackendServer() { stop(); }
  BackendServer(const BackendServer&) = delete;
  BackendServer& operator=(const BackendServer&) = delete;

  Status start() {
    UniqueFd listener;
    Status st = ns_.run([&]() -> Status {
      auto s = tcp_socket(1000);
      if (!s) return s.error();
      sockaddr_in any = sockaddr_v4("0.0.0.0", port_);
      if (bind(s->get(), reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0)
        return dataplane::errno_error("bind");
      if (listen(s->get(), 64) != 0) return dataplane::errno_error("listen");
      listener = std::move(*s);
      return ok();
    });
    if (!st) return st;
    stop_ = false;
    thread_ = std::thread([this, l = std::move(listener)] { serve(l.get()); });
    return ok();
  }

  // Closes the listener: health checks and new connections get "connection refused".
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void serve(int listener) {
    const std::string answer = name_ + "\n";
    while (!stop_) {
      pollfd p{listener, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      UniqueFd conn(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn.valid()) continue;
      timeval timeout{1, 0};
      setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
      (void)!send(conn.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
    }
  }

  const Netns& ns_;
  std::string name_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace rail::e2e
