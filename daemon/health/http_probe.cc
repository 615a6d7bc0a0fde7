// Plain HTTP check: connect, then the shared HTTP exchange over the socket.
#include <sys/socket.h>

#include "daemon/health/byte_stream.h"
#include "daemon/health/probes.h"

namespace rail::health {

Result<ProbeOutcome> probe_http(const ProbeTarget& target, const HealthCheckSpec& spec,
                                const ProbeContext& ctx) {
  auto fd = open_probe_socket(target, SOCK_STREAM);
  if (!fd) return fd.error();
  if (auto failure = connect_socket(fd->get(), target, ctx)) {
    return finish_probe(ctx, std::move(failure), "");
  }
  SocketStream stream(fd->get());
  std::string detail;
  MaybeFailure failure = http_exchange(stream, spec, target, ctx, detail);
  return finish_probe(ctx, std::move(failure), detail);
}

}  // namespace rail::health
