#!/usr/bin/env bash
# Builds and runs every Rail benchmark (rail_core_bench, rail_xdp_bench; then
# rail_api_latency_bench and rail_lb_compare, each with its own table) and prints one summary
# table of medians against the targets, PASS/MISS per target. Informational: always exits 0
# unless a build or a benchmark itself fails to run (timing is not a test; see
# docs/xdp-benchmarks.md). Needs root for the XDP part; without root it is skipped.
#
#   RAIL_BUILD_DIR   build directory (default: build-bench), configured with RAIL_BUILD_BPF=ON
#   RAIL_BENCH_JOBS  ninja -j (default 2: the development VM is small and shared)
#   RAIL_BENCH_OUT   where the JSON files go (default: $RAIL_BUILD_DIR/bench-results)
#   extra arguments are passed to rail_xdp_bench (e.g. --trials 3 --no-live)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${RAIL_BUILD_DIR:-build-bench}
JOBS=${RAIL_BENCH_JOBS:-2}
OUT=${RAIL_BENCH_OUT:-$BUILD_DIR/bench-results}

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAIL_BUILD_BPF=ON \
    >/dev/null
fi
targets=(rail_core_bench)
if [ "$(id -u)" -eq 0 ]; then targets+=(rail_xdp_bench); fi
echo "== build: ${targets[*]}" >&2
ninja -C "$BUILD_DIR" -j"$JOBS" "${targets[@]}" >&2
mkdir -p "$OUT"

# Every core benchmark declares its own repetitions; keep the median aggregate only.
echo "== rail_core_bench (a few minutes)" >&2
"$BUILD_DIR/bench/rail_core_bench" --benchmark_format=json --benchmark_out_format=json \
  --benchmark_out="$OUT/core.json" >/dev/null

xdp_json=""
if [ -x "$BUILD_DIR/bench/rail_xdp_bench" ] && [ "$(id -u)" -eq 0 ]; then
  echo "== rail_xdp_bench (about a minute)" >&2
  # Exit status 1 with a "live": {"error": ...} object: the per-packet part ran and the live
  # part could not (reported in the summary); anything else is a failure.
  xdp_rc=0
  "$BUILD_DIR/bench/rail_xdp_bench" --json "$@" >"$OUT/xdp.json" || xdp_rc=$?
  if [ "$xdp_rc" -ne 0 ] && ! grep -q '"live": {"error"' "$OUT/xdp.json"; then
    exit "$xdp_rc"
  fi
  xdp_json="$OUT/xdp.json"
else
  echo "== rail_xdp_bench skipped (needs root and RAIL_BUILD_BPF=ON)" >&2
fi

python3 - "$OUT/core.json" "$xdp_json" <<'PY'
import json, sys

core = json.load(open(sys.argv[1]))
rows = []  # (benchmark, median, unit, target, verdict)

def verdict(value, target, higher_is_better=False):
    if target is None:
        return "-"
    ok = value >= target if higher_is_better else value <= target
    return "PASS" if ok else "MISS"

# Targets of the core benchmarks, from the docs that own them (docs/maglev.md).
core_targets = {
    "BM_MaglevBuild/1000/65537": 0.8,    # ms
    "BM_MaglevBuild/1000/655373": 10.0,  # ms
}
for b in core.get("benchmarks", []):
    if b.get("aggregate_name") != "median":
        continue
    name = b["run_name"].split("/repeats:")[0]
    target = core_targets.get(name)
    value = b["real_time"]
    rows.append((name, value, b.get("time_unit", "ns"), target, verdict(value, target)))

if sys.argv[2]:
    xdp = json.load(open(sys.argv[2]))
    for p in xdp.get("paths", []):
        # null (or 0): reported without a target, e.g. the working sets and the floors
        target = p.get("target_ns") or None
        rows.append(("xdp/" + p["name"] + " (net)", p["net_ns"], "ns", target,
                     verdict(p["net_ns"], target)))
    if "trivial_pass_ns" in xdp:
        rows.append(("xdp/trivial_pass (subtracted)", xdp["trivial_pass_ns"], "ns", None, "-"))
        rows.append(("xdp/verifier insns", xdp["verified_insns"], "insns", None, "-"))
        rows.append(("xdp/load time", xdp["load_ms"], "ms", None, "-"))
    live = xdp.get("live")
    if live and "error" in live:
        print(f"xdp/live: not measured ({live['error']})")
    elif live:
        rows.append(("xdp/live rail pps", live["rail_pps"], "pps", None, "-"))
        rows.append(("xdp/live trivial XDP_TX pps", live["trivial_pps"], "pps", None, "-"))
        rows.append(("xdp/live rail / trivial", live["ratio_pct"], "%", live["target_pct"],
                     verdict(live["ratio_pct"], live["target_pct"], higher_is_better=True)))

width = max(len(r[0]) for r in rows) if rows else 10
print(f"{'benchmark (median)':<{width}}  {'value':>12} {'unit':<5} {'target':>9}  result")
for name, value, unit, target, v in rows:
    t = "-" if target is None else (f"<= {target:g}" if unit != "%" else f">= {target:g}")
    print(f"{name:<{width}}  {value:>12.2f} {unit:<5} {t:>9}  {v}")
misses = sum(1 for r in rows if r[4] == "MISS")
passes = sum(1 for r in rows if r[4] == "PASS")
print(f"targets: {passes} PASS, {misses} MISS (informational)")
PY
# API call -> data plane forwarding latency (issue #4; target p99 < 10 ms): its own table.
if [ "$(id -u)" -eq 0 ] && ninja -C "$BUILD_DIR" -j"$JOBS" rail_api_latency_bench >&2; then
  "$BUILD_DIR/bench/rail_api_latency_bench"
fi
# Rail vs HAProxy in the namespace testbed (docs/testbed.md "Rail vs HAProxy"): its own table,
# and its JSON line in $OUT/lb_compare.json. Needs root and the haproxy package (setup.sh).
if [ "$(id -u)" -eq 0 ] && command -v haproxy >/dev/null &&
  ninja -C "$BUILD_DIR" -j"$JOBS" rail_lb_compare >&2; then
  echo "== rail_lb_compare (about 2 minutes)" >&2
  "$BUILD_DIR/bench/rail_lb_compare" | tee "$OUT/lb_compare.txt"
  grep '^{' "$OUT/lb_compare.txt" >"$OUT/lb_compare.json"
fi
exit 0
