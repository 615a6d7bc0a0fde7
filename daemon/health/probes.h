// The probes: one function per check type, plus run_probe() which picks one from the spec.
//
// Each returns a ProbeOutcome (ok or not, latency, detail) for anything the backend did, and a
// Result error only when the probe could not run on our side (socket(), bind to a missing
// source, cancellation). None throws; each ends by ctx.deadline at the latest.
#pragma once

#include "core/result.h"
#include "daemon/health/health_spec.h"
#include "daemon/health/probe_io.h"

namespace rail::health {

// Connect (non-blocking connect + poll); success = handshake completed.
Result<ProbeOutcome> probe_tcp(const ProbeTarget& target, const ProbeContext& ctx);
// GET spec.path over plain TCP; success = status == spec.expect_status.
Result<ProbeOutcome> probe_http(const ProbeTarget& target, const HealthCheckSpec& spec,
                                const ProbeContext& ctx);
// The same over TLS (OpenSSL); SNI = host; chain + name verified only with spec.tls_verify.
Result<ProbeOutcome> probe_https(const ProbeTarget& target, const HealthCheckSpec& spec,
                                 const ProbeContext& ctx);
// One datagram out; success = any reply; ICMP port unreachable (ECONNREFUSED) or silence until
// the deadline = failure.
Result<ProbeOutcome> probe_udp(const ProbeTarget& target, const HealthCheckSpec& spec,
                               const ProbeContext& ctx);

// Runs the probe for spec.type, bounded by spec.timeout; cancel_fd readable aborts it.
Result<ProbeOutcome> run_probe(const ProbeTarget& target, const HealthCheckSpec& spec,
                               int cancel_fd = -1);

}  // namespace rail::health
