// HTTPS check: connect, TLS handshake (verification only with tls_verify), HTTP exchange.
#include <sys/socket.h>

#include "daemon/health/probes.h"
#include "daemon/health/tls_session.h"

namespace rail::health {

Result<ProbeOutcome> probe_https(const ProbeTarget& target, const HealthCheckSpec& spec,
                                 const ProbeContext& ctx) {
  auto fd = open_probe_socket(target, SOCK_STREAM);
  if (!fd) return fd.error();
  if (auto failure = connect_socket(fd->get(), target, ctx)) {
    return finish_probe(ctx, std::move(failure), "");
  }
  std::string name = spec.host.empty() ? target.address.to_string() : spec.host;
  auto session = TlsSession::create(fd->get(), name, spec.tls_verify);
  if (!session) return session.error();
  if (auto failure = session->handshake(ctx)) return finish_probe(ctx, std::move(failure), "");
  std::string detail;
  MaybeFailure failure = http_exchange(*session, spec, target, ctx, detail);
  if (!failure) session->close_notify();
  return finish_probe(ctx, std::move(failure), detail);
}

}  // namespace rail::health
