// rail_xdp_bench's shared pieces: options, one timed test run, the balancer as benchmarked.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench_probe.skel.h"
#include "core/result.h"
#include "dataplane/skeleton.h"
#include "dataplane/xdp_data_plane.h"
#include "golden/golden_world.h"
#include "trivial.skel.h"

namespace rail::xdpbench {

RAIL_BPF_SKELETON_TRAITS(trivial_bpf);
RAIL_BPF_SKELETON_TRAITS(bench_probe_bpf);
using TrivialSkeleton = dataplane::BpfSkeleton<trivial_bpf_traits>;
using ProbeSkeleton = dataplane::BpfSkeleton<bench_probe_bpf_traits>;
using golden::Bytes;

// Working sets of the established-flow paths; the connection table is sized for the largest.
inline constexpr uint32_t kWorkingSetSmall = 200'000;
inline constexpr uint32_t kWorkingSetLarge = 400'000;

struct Options {
  int trials = 7;
  int calls = 20'000;
  int live_trials = 5;
  double live_seconds = 1.0;  // per trial and per program
  bool json = false;
  bool live = true;
  bool test_run = true;
  int cpu = 0;       // the test-run thread is pinned here (see conn_capacity_for())
  bool flow_cache = true;  // --no-flow-cache: XdpOptions::flow_cache_trust_ns = 0 (A/B)
  std::string only;  // comma-separated path names to time (empty: all)
};

// One test run of `frame`, repeat 1: the kernel's duration in ns. The verdict must be
// `expected` (a wrong verdict means the path measured is not the path named).
Result<uint32_t> run_once(int prog_fd, const Bytes& frame, uint32_t expected);

double median(std::vector<double> v);

// Entries of the connection table so that the pinned CPU's share (BPF_F_NO_COMMON_LRU: each
// possible CPU owns capacity / ncpus) holds `working_set` flows with room to spare.
uint32_t conn_capacity_for(uint32_t working_set);

// The balancer with the golden sample config and a table sized for kWorkingSetLarge (the flow
// cache as `o` says).
Result<std::unique_ptr<dataplane::XdpDataPlane>> load_balancer(const Options& o);

// --- Floor probes (xdp_bench_floors.cc) ---
// bpf/bench_probe.bpf.c loaded with probe_conntrack of the balancer's size, empty.
Result<ProbeSkeleton> load_probe();

// Puts the flows of frame(0..count-1) into the probe's table (from the calling, pinned CPU,
// whose LRU share then holds them, as the balancer's SYNs did for its own table).
Status fill_probe(const ProbeSkeleton& probe, uint64_t count,
                  const std::function<Bytes(uint64_t)>& frame);

// The sum over CPUs of entry 0 of a per-CPU u64 array.
uint64_t sum_per_cpu(int map_fd);

// --- Live rate over a veth pair (xdp_bench_live.cc) ---
struct LiveReport {
  // Rate received back per trial (pps): the balancer, trivial XDP_TX (the target's reference)
  // and the lookup-free GRE encapsulator (the like-for-like reference).
  std::vector<double> rail_pps, trivial_pps, gre_pps;
  double rail_median = 0, trivial_median = 0, gre_median = 0;
  double ratio_pct = 0;        // rail / trivial XDP_TX
  double gre_ratio_pct = 0;    // rail / xdp_tx_gre
  uint64_t generated_pps = 0;  // frames the generator produced per second (whole run)
  // The balancer's own counters over its windows: what it received and sent back, and how
  // many were connection-table hits (the established path) vs new flows.
  uint64_t rail_rx = 0, rail_tx = 0, rail_sink = 0, rail_conn_hits = 0, rail_new_flows = 0;
};

Result<LiveReport> run_live_bench(const TrivialSkeleton& trivial, const ProbeSkeleton& probe,
                                  const Options& o);

}  // namespace rail::xdpbench
