// The golden cases (tests/golden/) through the loaded XDP balancer with BPF_PROG_TEST_RUN, side
// by side with the reference forwarder: same verdict, drop reason, bytes and counters.
#include "balancer_pair.h"

namespace rail::golden {
namespace {

class BalancerGolden : public testing::TestWithParam<size_t> {};

TEST_P(BalancerGolden, GivesTheExpectedVerdictReasonAndBytes) {
  const Case& c = golden_cases()[GetParam()];
  LbConfig config = c.config;
  Pair pair;
  pair.SetUp(config);
  if (HasFatalFailure()) return;
  for (const Step& step : c.steps) {
    SCOPED_TRACE(step.what);
    if (step.reconfigure) {
      step.reconfigure(config);
      pair.Apply(config);
      if (HasFatalFailure()) return;
    }
    if (step.input.size() < kMinTestFrame) {
      // BPF_PROG_TEST_RUN refuses XDP inputs shorter than an Ethernet header (and no NIC
      // delivers one); the program's own length check cannot be reached from here.
      EXPECT_EQ(step.reason, RAIL_DROP_MALFORMED_L2);
      continue;
    }
    const Counters xdp_before = pair.XdpCounters(), ref_before = pair.RefCounters();
    const auto o = pair.Run(step.input);
    const Counters xdp_delta = delta(pair.XdpCounters(), xdp_before);
    const Counters ref_delta = delta(pair.RefCounters(), ref_before);
    EXPECT_EQ(o.xdp, step.verdict);
    if (step.verdict == RAIL_VERDICT_DROP) {
      EXPECT_EQ(xdp_delta[size_t(RAIL_CNT_DROP_REASON_BASE) + size_t(step.reason)], 1u)
          << "drop reason " << step.reason << " not counted"
          << describe_counters(xdp_delta, ref_delta);
    }
    if (step.verdict == RAIL_VERDICT_TX) {
      EXPECT_EQ(o.xdp_out, step.output) << describe_difference(o.xdp_out, step.output);
    }
    // Every counter moves as the reference's does (verdicts, reasons, flows, ICMP, fragments).
    EXPECT_EQ(xdp_delta, ref_delta) << describe_counters(xdp_delta, ref_delta);
  }
  // Per-service and per-backend traffic as in the reference.
  auto stats = pair.plane().stats();
  ASSERT_TRUE(stats) << stats.error().describe();
  const ForwarderState& ref = pair.forwarder().state();
  ASSERT_EQ(stats->services.size(), ref.services().size());
  for (size_t i = 0; i < ref.services().size(); ++i) {
    SCOPED_TRACE("service " + std::to_string(i));
    ExpectSameTraffic(stats->services[i], pair.forwarder().service_counters(), uint32_t(i));
    const std::vector<uint32_t>& ids = ref.services()[i].backend_ids;
    ASSERT_EQ(stats->backends[i].size(), ids.size());
    for (size_t b = 0; b < ids.size(); ++b) {
      SCOPED_TRACE("backend " + std::to_string(b));
      ExpectSameTraffic(stats->backends[i][b], pair.forwarder().backend_counters(), ids[b]);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, BalancerGolden, testing::Range<size_t>(0, golden_cases().size()),
                         [](const testing::TestParamInfo<size_t>& info) {
                           return golden_cases()[info.param].name;
                         });

}  // namespace
}  // namespace rail::golden
