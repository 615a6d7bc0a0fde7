// Test support for the health-check tests: a private, anonymous network namespace (RAII).
//
// unshare(CLONE_NEWNET) on a helper thread creates it; we keep only an fd to it, so there is no
// name to clean up and nothing survives the test even if it crashes: the kernel frees the
// namespace when its last fd and socket are closed. Loopback is brought up; all of 127/8 is
// on lo, so tests use 127.0.0.1 and 127.0.0.2 as distinct local addresses.
#pragma once

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "core/result.h"
#include "core/unique_fd.h"

namespace rail::health::testing {

class TestNetns {
 public:
  static Result<TestNetns> create() {
    std::string error;
    UniqueFd fd;
    std::thread creator([&] {
      if (unshare(CLONE_NEWNET) != 0) {
        error = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
        return;
      }
      fd.reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) {
        error = std::string("open netns: ") + std::strerror(errno);
        return;
      }
      UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      ifreq ifr{};
      std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
      if (!sock.valid() || ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) {
        error = std::string("lo flags: ") + std::strerror(errno);
        return;
      }
      ifr.ifr_flags |= IFF_UP;
      if (ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) {
        error = std::string("lo up: ") + std::strerror(errno);
      }
    });
    creator.join();
    if (!error.empty()) return make_error(ErrorCode::kPermission, error);
    return TestNetns(std::move(fd));
  }

  int fd() const { return fd_.get(); }

  // Runs fn on a helper thread inside the namespace (sockets it creates belong there).
  template <typename Fn>
  auto run(Fn fn) const -> decltype(fn()) {
    std::optional<decltype(fn())> result;
    std::thread worker([&] {
      if (setns(fd_.get(), CLONE_NEWNET) != 0) {
        result.emplace(make_error(ErrorCode::kSystem, "setns failed"));
        return;
      }
      result.emplace(fn());
    });
    worker.join();
    return std::move(*result);
  }

 private:
  explicit TestNetns(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace rail::health::testing
