#!/usr/bin/env bash
# Configures and builds Rail into ./build (Release-like, with debug info). Used by test.sh and demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${RAIL_BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$BUILD_DIR" -j"$(nproc)" "$@"
