#!/usr/bin/env bash
# Installs every Debian package Rail needs to build, test and run its demo. Idempotent and quiet:
# when everything is present it does nothing; safe to rerun. Needs root (apt-get).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git python3
  clang llvm libclang-rt-14-dev clang-format
  # eBPF
  libbpf-dev bpftool libxdp-dev xdp-tools libelf-dev zlib1g-dev linux-libc-dev
  # libraries
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev libyaml-cpp-dev
  libspdlog-dev libfmt-dev libcpp-httplib-dev libssl-dev
  libexpat1-dev  # tests/traffic: the SVG chart must parse as XML
  # network tools used by tests and the demo
  iproute2 ethtool procps
  prometheus  # promtool: unit tests run `promtool check metrics` on /metrics
  haproxy  # rail-testbed balancer: haproxy (the comparison run, docs/testbed.md)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run as root (apt-get install needs it)" >&2
  exit 1
fi

echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
