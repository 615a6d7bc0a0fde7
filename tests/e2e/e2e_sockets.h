// Socket helpers shared by the live tests: IPv4 addresses, bound sockets (rail::UniqueFd),
// bounded blocking calls.
//
// Sockets are created on the calling thread, so they belong to that thread's network namespace
// (tests call these from inside Netns::run()).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"
#include "dataplane/libbpf_error.h"

namespace rail::e2e {

inline sockaddr_in sockaddr_v4(const std::string& addr, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
  return sa;
}

// A socket of `type` bound to addr:port; every blocking call of it is bounded (3 s).
inline Result<UniqueFd> bound_socket(int type, const std::string& addr, uint16_t port) {
  UniqueFd s(socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (!s.valid()) return dataplane::errno_error("socket");
  int one = 1;
  setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  timeval timeout{3, 0};  // bounds every blocking call of the test
  setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in sa = sockaddr_v4(addr, port);
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    return dataplane::errno_error("bind " + addr + ":" + std::to_string(port));
  }
  return s;
}

// Waits up to `timeout_ms` for any of `fds` to be readable; its index, or -1.
inline int wait_readable(const std::vector<int>& fds, int timeout_ms) {
  std::vector<pollfd> p;
  for (int fd : fds) p.push_back(pollfd{fd, POLLIN, 0});
  if (poll(p.data(), p.size(), timeout_ms) <= 0) return -1;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i].revents & POLLIN) return int(i);
  return -1;
}

}  // namespace rail::e2e
