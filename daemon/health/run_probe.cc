// run_probe(): the check type's probe, bounded by the spec's timeout.
#include "daemon/health/probes.h"

namespace rail::health {

Result<ProbeOutcome> run_probe(const ProbeTarget& target, const HealthCheckSpec& spec,
                               int cancel_fd) {
  ProbeContext ctx = ProbeContext::starting_now(spec.timeout, cancel_fd);
  switch (spec.type) {
    case CheckType::kNone:
      return ProbeOutcome{true, Millis(0), "no check configured"};
    case CheckType::kTcp:
      return probe_tcp(target, ctx);
    case CheckType::kHttp:
      return probe_http(target, spec, ctx);
    case CheckType::kHttps:
      return probe_https(target, spec, ctx);
    case CheckType::kUdp:
      return probe_udp(target, spec, ctx);
  }
  return make_error(ErrorCode::kInternal, "unknown check type");
}

}  // namespace rail::health
