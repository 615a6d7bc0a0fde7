#!/usr/bin/env bash
# Builds the packet fuzzer with clang++ (libFuzzer + ASan + UBSan) outside the main g++ build,
# seeds a corpus with builder-made frames, and fuzzes for SECONDS (default 60).
# Exit status: 0 if no crash was found, non-zero otherwise (the crash input is left in the
# build directory, printed by libFuzzer). Build dir: $RAIL_FUZZ_DIR or a fresh temp dir.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${RAIL_FUZZ_DIR:-$(mktemp -d /tmp/rail-fuzz.XXXXXX)}"
cxx="${CXX_FUZZ:-clang++-14}"
command -v "$cxx" >/dev/null || cxx=clang++
mkdir -p "$out/corpus"

core_sources=($(find "$root/core" -name "*.cc" | sort) "$root"/tests/golden/*.cc)
common=(-std=c++20 -g -O1 -I"$root" -I"$root/abi" -I"$root/tests")

echo "fuzz: building in $out with $cxx"
"$cxx" "${common[@]}" -o "$out/make_seeds" "$root/tests/fuzz/make_seeds.cc" "${core_sources[@]}"
"$cxx" "${common[@]}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer -o "$out/packet_fuzz" "$root/tests/fuzz/packet_fuzz.cc" \
  "${core_sources[@]}"

"$out/make_seeds" "$out/corpus"
echo "fuzz: $(ls "$out/corpus" | wc -l) seeds, running for ${seconds}s"
cd "$out"
exec ./packet_fuzz -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus"
