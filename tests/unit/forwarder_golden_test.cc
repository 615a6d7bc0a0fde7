// Runs every golden case (tests/golden/) through the reference forwarder.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "core/forwarder/forwarder.h"
#include "golden/golden_cases.h"

namespace rail::golden {
namespace {

// "offset 34: got 0x0a want 0x0b" for the first differing bytes, plus sizes.
std::string describe_difference(const Bytes& got, const Bytes& want) {
  std::string out =
      "sizes got " + std::to_string(got.size()) + " want " + std::to_string(want.size());
  int shown = 0;
  for (size_t i = 0; i < std::max(got.size(), want.size()) && shown < 8; ++i) {
    const int g = i < got.size() ? got[i] : -1, w = i < want.size() ? want[i] : -1;
    if (g == w) continue;
    char buf[80];
    std::snprintf(buf, sizeof buf, "\n  offset %zu: got %d want %d", i, g, w);
    out += buf;
    ++shown;
  }
  return out;
}

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
