// Test helpers for the XDP balancer: an XdpDataPlane and a reference Forwarder fed the same
// configs and frames, and readable diffs of bytes and counters.
#pragma once

#include <linux/bpf.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/forwarder/forwarder.h"
#include "dataplane/xdp_data_plane.h"
#include "golden/golden_cases.h"
#include "golden/golden_diff.h"
#include "test_run.h"

namespace rail::golden {

using dataplane::XdpDataPlane;
using Counters = std::array<uint64_t, RAIL_CNT_MAX>;

inline rail_verdict verdict_of(uint32_t xdp_action) {
  switch (xdp_action) {
    case XDP_TX:
      return RAIL_VERDICT_TX;
    case XDP_PASS:
      return RAIL_VERDICT_PASS;
    default:
      return RAIL_VERDICT_DROP;
  }
}

inline Counters delta(const Counters& after, const Counters& before) {
  Counters d{};
  for (size_t i = 0; i < d.size(); ++i) d[i] = after[i] - before[i];
  return d;
}

inline std::string describe_counters(const Counters& xdp, const Counters& ref) {
  std::string out;
  for (size_t i = 0; i < xdp.size(); ++i) {
    if (xdp[i] != ref[i]) {
      out += "\n  counter " + std::to_string(i) + ": xdp " + std::to_string(xdp[i]) + " ref " +
             std::to_string(ref[i]);
    }
  }
  return out;
}

// One XDP data plane and one reference forwarder fed the same configs and frames.
class Pair {
 public:
  void SetUp(const LbConfig& config) {
    dataplane::XdpOptions options;
    options.conn_capacity = 1 << 12;
    options.frag_capacity = 1 << 10;
    auto plane = XdpDataPlane::load(options);
    ASSERT_TRUE(plane) << plane.error().describe();
    plane_ = std::move(*plane);
    Apply(config);
  }

  void Apply(const LbConfig& config) {
    auto applied = plane_->apply(config);
    ASSERT_TRUE(applied) << applied.error().describe();
    ASSERT_TRUE(forwarder_.apply(config));
  }

  Counters XdpCounters() {
    auto stats = plane_->stats();
    EXPECT_TRUE(stats) << stats.error().describe();
    return stats ? stats->counters : Counters{};
  }

  // Runs `frame` through both; returns (xdp verdict, xdp output, reference verdict/output).
  struct Outcome {
    rail_verdict xdp;
    Bytes xdp_out;
    Verdict ref;
    Bytes ref_out;
  };
  Outcome Run(const Bytes& frame) {
    Outcome o;
    auto run = bpftest::test_run(plane_->prog_fd(), frame, 1);
    EXPECT_TRUE(run) << run.error().describe();
    o.xdp = run ? verdict_of(run->retval) : RAIL_VERDICT_DROP;
    if (run) o.xdp_out = run->output;
    o.ref = forwarder_.process(frame, now_, o.ref_out);
    now_ += 1'000'000;
    return o;
  }

  const Counters& RefCounters() const { return forwarder_.counters(); }
  const Forwarder& forwarder() const { return forwarder_; }
  XdpDataPlane& plane() { return *plane_; }

 private:
  std::unique_ptr<XdpDataPlane> plane_;
  Forwarder forwarder_;
  uint64_t now_ = 1'000'000'000;
};

inline constexpr size_t kMinTestFrame = 14;  // BPF_PROG_TEST_RUN refuses shorter XDP input

inline void ExpectSameTraffic(const TrafficCounters& xdp,
                              const std::unordered_map<uint32_t, TrafficCounters>& ref,
                              uint32_t id) {
  auto it = ref.find(id);
  const TrafficCounters want = it == ref.end() ? TrafficCounters{} : it->second;
  EXPECT_EQ(xdp.packets, want.packets);
  EXPECT_EQ(xdp.bytes, want.bytes);
  EXPECT_EQ(xdp.new_flows, want.new_flows);
}

}  // namespace rail::golden
