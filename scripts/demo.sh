#!/usr/bin/env bash
# The Rail demo: sets up a fresh Debian 12 machine (as root), builds Rail, then shows
#  1. the Maglev table Rail computes for a small sample cluster (the same on every node),
#  2. how evenly a 1000-backend table spreads, and
#  3. how many table entries and flows move when backends fail or come back,
#  4. real packets through the reference forwarder: established flows when backends fail/join.
# Later issues grow this into a live network-namespace testbed.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
echo "== build"
./scripts/build.sh railctl
RAILCTL=${RAIL_BUILD_DIR:-build}/tools/railctl/railctl

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "A small cluster: 4 backends, table size 13 (tiny so it fits on screen)" \
  "$RAILCTL" maglev --backends 4 --table-size 13 --show-table
step "Balance: 1000 backends over the default table of 65537 entries" \
  "$RAILCTL" maglev --backends 1000 --table-size 65537
step "Resilience of the table alone: 2 of 10 backends fail; a sample of 100000 flows" \
  "$RAILCTL" maglev --backends 10 --table-size 65537 --fail 2 --flows 100000
step "1000 established TCP flows through the forwarder while 2 of 10 backends fail" \
  "$RAILCTL" simulate --backends 10 --flows 1000 --fail 2
step "... and while 2 backends join" \
  "$RAILCTL" simulate --backends 10 --flows 1000 --add 2
step "Weights 1:2:3:4" \
  "$RAILCTL" maglev --backends 4 --table-size 65537 --weights 1,2,3,4
echo
echo "demo: done"
