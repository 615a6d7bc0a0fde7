// HealthCheckSpec, ProbeTarget and ProbeOutcome: what to check, where, and what a check found.
//
// The daemon's config model has its own health-check section; it maps that onto these small
// structs so the engine does not depend on YAML or on config-model headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/net/address.h"
#include "core/result.h"
#include "daemon/health/check_type.h"

namespace rail::health {

using Millis = std::chrono::milliseconds;

Result<CheckType> parse_check_type(std::string_view text);  // "tcp", "http", ...

struct HealthCheckSpec {
  CheckType type = CheckType::kTcp;
  uint16_t port = 0;        // probed port (host order); must be set for every type but kNone
  std::string path = "/";   // HTTP(S): request target
  std::string host;         // HTTP(S): Host header and TLS SNI; empty = the target address
  int expect_status = 200;  // HTTP(S): the one status code that means healthy
  Millis interval{2000};    // between check starts (see docs/health-checks.md)
  Millis timeout{1000};     // a whole check (connect + exchange); must be <= interval
  uint32_t rise = 2;        // consecutive successes that bring a down target up
  uint32_t fall = 3;        // consecutive failures that take an up target down
  bool tls_verify = false;  // HTTPS: verify the chain against system CAs and the host name
  std::string udp_payload = "rail-health\n";  // UDP: the datagram sent; any reply = healthy

  // Every problem in one message ("health check: rise 0 must be >= 1; port 0 ...").
  Status validate() const;
};

// Where a probe goes. The daemon builds one per backend; for a direct check that is just the
// backend address and spec port. The seam for checks "via the VIP" (through the encapsulation
// to the VIP configured on the backend): connect to the VIP and set `fwmark`, so a policy route
// or the data plane steers the probe to one backend — see docs/health-checks.md.
struct ProbeTarget {
  IpAddress address;
  uint16_t port = 0;
  std::optional<IpAddress> source;  // bind the probe socket to this local address
  uint32_t fwmark = 0;              // SO_MARK on the probe socket; 0 = none (needs CAP_NET_ADMIN)

  std::string describe() const;  // "198.18.0.10:80" / "[2001:db8::1]:443"
};

struct ProbeOutcome {
  bool ok = false;
  Millis latency{0};   // from probe start to its verdict
  std::string detail;  // "HTTP 200", "connect: connection refused", "timeout after 1000 ms"
};

}  // namespace rail::health
