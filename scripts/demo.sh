#!/usr/bin/env bash
# The Rail demo: sets up a fresh Debian 12 machine (as root), builds Rail, then runs rail-demo
# (tools/demo/demo.cc) on a live testbed of network namespaces (examples/testbed-demo.yaml,
# docs/testbed.md):
#  1. the testbed: a client, an ECMP router, 2 Rail nodes (the real raild, XDP), 4 backends;
#  2. 1000 new connections: their spread over the backends, and which node forwarded each;
#  3. 100 live connections while a backend stops and starts again, second by second: only its
#     connections are lost, raild takes it out, the others never notice;
#  4. where the plot of that run was written;
#  5. the teardown (also after Ctrl-C or an error).
# About 30-60 s after the build. RAIL_BUILD_DIR picks the build directory (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${RAIL_BUILD_DIR:-build}
TOPOLOGY=examples/testbed-demo.yaml
NAME=demo  # the topology's name: its namespaces are rtb-demo-*

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run it as root (it creates network namespaces and attaches XDP programs)" >&2
  exit 1
fi
./scripts/setup.sh
echo "== build"
./scripts/build.sh rail-demo rail-testbed raild railctl rail-nameserver rail-mconnect \
  rail-ctraffic

# rail-demo owns the testbed and removes it on every way out (end, error, Ctrl-C); this is the
# safety net for a rail-demo that was killed outright. Quiet unless something was left.
cleanup() {
  local left
  left=$("$BUILD_DIR/tools/testbed/rail-testbed" down "$NAME" 2>&1) || true
  case "$left" in *"nothing of testbed"*) ;; *) echo "$left" ;; esac
}
trap cleanup EXIT

"$BUILD_DIR/tools/demo/rail-demo" --out-dir "$BUILD_DIR/demo-output" "$TOPOLOGY"
