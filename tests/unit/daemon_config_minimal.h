// The smallest valid rail.yaml, which the config loader and error tests start from and edit.
#pragma once

namespace rail::daemon {

// Line numbers in the error tests refer to this text (line 1 = "node:").
constexpr const char* kMinimal = R"(node:
  interfaces: [eth0]
  outer_source_v4: 192.0.2.10
pools:
  - name: web
    backends:
      - address: 198.51.100.11
      - address: 198.51.100.12
vips:
  - name: www
    address: 198.18.100.1
    port: 80
    pool: web
)";

}  // namespace rail::daemon
