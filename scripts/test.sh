#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root), builds Rail and runs every test: unit tests,
# BPF tests (BPF_PROG_TEST_RUN against the real .bpf.o), network-namespace e2e tests, the bounded
# fuzz run and a benchmark smoke run. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
echo "== build"
./scripts/build.sh
echo "== test"
# One ctest run for everything so its summary is the last word.
ctest --test-dir "${RAIL_BUILD_DIR:-build}" --output-on-failure --timeout 900 -j1 "$@"
