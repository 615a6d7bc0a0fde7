// TCP connect check: the handshake completing is the whole verdict.
#include <sys/socket.h>

#include "daemon/health/probes.h"

namespace rail::health {

Result<ProbeOutcome> probe_tcp(const ProbeTarget& target, const ProbeContext& ctx) {
  auto fd = open_probe_socket(target, SOCK_STREAM);
  if (!fd) return fd.error();
  MaybeFailure failure = connect_socket(fd->get(), target, ctx);
  if (!failure) {
    // Close with RST rather than FIN: nothing was exchanged, and an abortive close leaves no
    // TIME_WAIT behind on either side for a check that repeats every few seconds forever.
    linger abort{1, 0};
    setsockopt(fd->get(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  }
  return finish_probe(ctx, std::move(failure), "connected");
}

}  // namespace rail::health
