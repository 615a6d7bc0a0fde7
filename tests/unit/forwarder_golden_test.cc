// Runs every golden case (tests/golden/) through the reference forwarder.
#include <gtest/gtest.h>

#include <string>

#include "core/forwarder/forwarder.h"
#include "golden/golden_cases.h"
#include "golden/golden_diff.h"

namespace rail::golden {
namespace {

class ForwarderGolden : public testing::TestWithParam<size_t> {};

TEST_P(ForwarderGolden, GivesTheExpectedVerdictAndBytes) {
  const Case& c = golden_cases()[GetParam()];
  LbConfig config = c.config;
  Forwarder forwarder;
  ASSERT_TRUE(forwarder.apply(config)) << c.name;
  std::vector<uint8_t> out;
  uint64_t now = 1'000'000'000;
  for (const Step& step : c.steps) {
    SCOPED_TRACE(step.what);
    if (step.reconfigure) {
      step.reconfigure(config);
      auto applied = forwarder.apply(config);
      ASSERT_TRUE(applied) << applied.error().message;
    }
    out.clear();
    const Verdict v = forwarder.process(step.input, now, out);
    now += 1'000'000;
    EXPECT_EQ(v.action, step.verdict);
    EXPECT_EQ(v.reason, step.reason);
    if (step.verdict == RAIL_VERDICT_TX) {
      const BackendSlot* slot =
          v.backend_id == kNoId ? nullptr : forwarder.state().backend(v.backend_id);
      EXPECT_EQ(out, step.output) << describe_difference(out, step.output) << "\n  sent to "
                                  << (slot ? slot->address.to_string() : std::string("(reply)"));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ForwarderGolden, testing::Range<size_t>(0, golden_cases().size()),
                         [](const testing::TestParamInfo<size_t>& info) {
                           return golden_cases()[info.param].name;
                         });

}  // namespace
}  // namespace rail::golden
