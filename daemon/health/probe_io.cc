// Socket steps for probes: open/bind/mark, non-blocking connect, bounded waits, send/recv.
#include "daemon/health/probe_io.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace rail::health {
namespace {

socklen_t to_sockaddr(const IpAddress& address, uint16_t port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof(out));
  if (address.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, address.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, address.data(), 16);
  return sizeof(sockaddr_in6);
}

int remaining_ms(const ProbeContext& ctx) {
  auto left = ctx.deadline - SteadyClock::now();
  if (left <= SteadyClock::duration::zero()) return 0;
  // Round up so a wait never ends a fraction of a millisecond before the deadline.
  return static_cast<int>(std::chrono::ceil<Millis>(left).count());
}

}  // namespace

ProbeContext ProbeContext::starting_now(Millis timeout, int cancel_fd) {
  ProbeContext ctx;
  ctx.start = SteadyClock::now();
  ctx.deadline = ctx.start + timeout;
  ctx.cancel_fd = cancel_fd;
  return ctx;
}

Millis ProbeContext::elapsed() const {
  return std::chrono::duration_cast<Millis>(SteadyClock::now() - start);
}

Failure remote_failure(std::string detail) {
  return Failure{false, std::move(detail)};
}
Failure local_failure(std::string detail) {
  return Failure{true, std::move(detail)};
}

Failure errno_failure(bool local, std::string_view what, int err) {
  return Failure{local, std::string(what) + ": " + std::strerror(err)};
}

Result<ProbeOutcome> finish_probe(const ProbeContext& ctx, MaybeFailure failure,
                                  std::string ok_detail) {
  if (failure && failure->local) return make_error(ErrorCode::kSystem, failure->detail);
  ProbeOutcome outcome;
  outcome.ok = !failure;
  outcome.latency = ctx.elapsed();
  outcome.detail = failure ? std::move(failure->detail) : std::move(ok_detail);
  return outcome;
}

Result<UniqueFd> open_probe_socket(const ProbeTarget& target, int type) {
  if (target.source && target.source->family() != target.address.family()) {
    return make_error(ErrorCode::kInvalidArgument, "probe source " + target.source->to_string() +
                                                       " and target " + target.describe() +
                                                       " are of different address families");
  }
  int family = target.address.is_v4() ? AF_INET : AF_INET6;
  UniqueFd fd(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return make_error(ErrorCode::kSystem, std::string("socket: ") + std::strerror(errno));
  }
  if (target.fwmark != 0 &&
      setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &target.fwmark, sizeof(target.fwmark)) != 0) {
    int err = errno;
    return make_error(err == EPERM ? ErrorCode::kPermission : ErrorCode::kSystem,
                      "SO_MARK " + std::to_string(target.fwmark) + ": " + std::strerror(err));
  }
  if (target.source) {
    sockaddr_storage local{};
    socklen_t len = to_sockaddr(*target.source, 0, local);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), len) != 0) {
      return make_error(ErrorCode::kSystem, "bind probe source " + target.source->to_string() +
                                                ": " + std::strerror(errno));
    }
  }
  return fd;
}

MaybeFailure wait_for(int fd, short events, const ProbeContext& ctx, std::string_view what) {
  for (;;) {
    pollfd fds[2] = {{fd, events, 0}, {ctx.cancel_fd, POLLIN, 0}};
    int timeout = remaining_ms(ctx);
    if (timeout == 0) {
      return remote_failure("timeout after " +
                            std::to_string((ctx.deadline - ctx.start) / Millis(1)) + " ms (" +
                            std::string(what) + ")");
    }
    int n = ::poll(fds, ctx.cancel_fd >= 0 ? 2 : 1, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_failure(true, "poll", errno);
    }
    if (n == 0) continue;  // re-checks the deadline, which produces the timeout message
    if (ctx.cancel_fd >= 0 && fds[1].revents != 0) return local_failure("cancelled");
    if (fds[0].revents != 0) return std::nullopt;
  }
}

MaybeFailure connect_socket(int fd, const ProbeTarget& target, const ProbeContext& ctx) {
  sockaddr_storage peer{};
  socklen_t len = to_sockaddr(target.address, target.port, peer);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&peer), len) == 0) return std::nullopt;
  if (errno != EINPROGRESS) return errno_failure(false, "connect", errno);
  if (auto failure = wait_for(fd, POLLOUT, ctx, "connect")) return failure;
  int err = 0;
  socklen_t err_len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) {
    return errno_failure(true, "getsockopt SO_ERROR", errno);
  }
  if (err != 0) return errno_failure(false, "connect", err);
  return std::nullopt;
}

MaybeFailure send_all(int fd, std::string_view bytes, const ProbeContext& ctx) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (auto failure = wait_for(fd, POLLOUT, ctx, "send")) return failure;
      continue;
    }
    return errno_failure(false, "send", errno);
  }
  return std::nullopt;
}

MaybeFailure recv_some(int fd, char* buffer, size_t capacity, size_t& got,
                       const ProbeContext& ctx) {
  for (;;) {
    ssize_t n = ::recv(fd, buffer, capacity, 0);
    if (n >= 0) {
      got = static_cast<size_t>(n);
      return std::nullopt;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return errno_failure(false, "recv", errno);
    if (auto failure = wait_for(fd, POLLIN, ctx, "waiting for reply")) return failure;
  }
}

}  // namespace rail::health
