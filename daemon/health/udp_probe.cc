// UDP check: one datagram on a connected socket; a reply means up, ICMP unreachable or
// silence until the timeout means down.
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

#include "daemon/health/probes.h"

namespace rail::health {

Result<ProbeOutcome> probe_udp(const ProbeTarget& target, const HealthCheckSpec& spec,
                               const ProbeContext& ctx) {
  auto fd = open_probe_socket(target, SOCK_DGRAM);
  if (!fd) return fd.error();
  // Connecting the socket is what makes the kernel hand ICMP errors for this peer back to us
  // as ECONNREFUSED / EHOSTUNREACH on the next send or recv.
  if (auto failure = connect_socket(fd->get(), target, ctx)) {
    return finish_probe(ctx, std::move(failure), "");
  }
  if (auto failure = send_all(fd->get(), spec.udp_payload, ctx)) {
    return finish_probe(ctx, std::move(failure), "");
  }
  std::array<char, 512> reply{};
  size_t got = 0;
  MaybeFailure failure = recv_some(fd->get(), reply.data(), reply.size(), got, ctx);
  if (failure && failure->detail.rfind("recv: ", 0) == 0) {
    failure->detail = "no reply: " + failure->detail.substr(6);  // "no reply: Connection refused"
  }
  return finish_probe(ctx, std::move(failure), "reply of " + std::to_string(got) + " bytes");
}

}  // namespace rail::health
