// Every golden input cut at every length through the XDP balancer: the verdict (and for TX the
// bytes) must be the reference forwarder's for that cut frame. A truncated frame that the
// reference drops or passes must never leave as a half-built TX.
#include "balancer_pair.h"

namespace rail::golden {
namespace {

class BalancerTruncation : public testing::TestWithParam<size_t> {};

TEST_P(BalancerTruncation, EveryCutFrameGetsTheReferenceVerdict) {
  const Case& c = golden_cases()[GetParam()];
  LbConfig config = c.config;
  Pair pair;
  pair.SetUp(config);
  if (HasFatalFailure()) return;
  size_t runs = 0, mismatches = 0;
  for (const Step& step : c.steps) {
    SCOPED_TRACE(step.what);
    if (step.reconfigure) {
      step.reconfigure(config);
      pair.Apply(config);
      if (HasFatalFailure()) return;
    }
    const Counters xdp_before = pair.XdpCounters(), ref_before = pair.RefCounters();
    // Every cut, then the whole frame (so later steps see the state the golden case expects).
    for (size_t len = kMinTestFrame; len <= step.input.size(); ++len) {
      const Bytes cut(step.input.begin(), step.input.begin() + long(len));
      const auto o = pair.Run(cut);
      ++runs;
      if (o.xdp != o.ref.action || (o.xdp == RAIL_VERDICT_TX && o.xdp_out != o.ref_out)) {
        if (++mismatches <= 5) {
          ADD_FAILURE() << "cut at " << len << " of " << step.input.size() << ": xdp verdict "
                        << o.xdp << " reference " << o.ref.action << " (reason " << o.ref.reason
                        << ")"
                        << (o.xdp == RAIL_VERDICT_TX ? describe_difference(o.xdp_out, o.ref_out)
                                                     : "");
        }
      }
    }
    // Drop reasons and every other counter summed over the sweep of this step.
    const Counters xdp_delta = delta(pair.XdpCounters(), xdp_before);
    const Counters ref_delta = delta(pair.RefCounters(), ref_before);
    EXPECT_EQ(xdp_delta, ref_delta) << describe_counters(xdp_delta, ref_delta);
  }
  EXPECT_EQ(mismatches, 0u) << "of " << runs << " cut frames";
}

INSTANTIATE_TEST_SUITE_P(Cases, BalancerTruncation,
                         testing::Range<size_t>(0, golden_cases().size()),
                         [](const testing::TestParamInfo<size_t>& info) {
                           return golden_cases()[info.param].name;
                         });

}  // namespace
}  // namespace rail::golden
