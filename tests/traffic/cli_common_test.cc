// Unit tests: the mains' option conversions (cli_common.h) return errors naming the option.
#include "tools/traffic/cli_common.h"

#include <gtest/gtest.h>

namespace rail::traffic {
namespace {

using std::chrono::milliseconds;

TEST(CliCommon, ConvertTargetNamesTheOption) {
  auto ok_target = convert_target("198.18.0.100:8080");
  ASSERT_TRUE(ok_target);
  EXPECT_EQ(ok_target->to_string(), "198.18.0.100:8080");
  auto bad = convert_target("198.18.0.100");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(bad.error().message.starts_with("--target: ")) << bad.error().message;
}

TEST(CliCommon, ConvertSourcesChecksTheTargetsFamily) {
  const Endpoint v4 = *parse_endpoint("198.18.0.100:8080");
  auto sources = convert_sources("198.18.1.10-198.18.1.11", v4);
  ASSERT_TRUE(sources);
  EXPECT_EQ(sources->size(), 2u);
  EXPECT_TRUE(convert_sources("", v4)->empty());
  EXPECT_EQ(convert_sources("2001:db8::1", v4).error().message,
            "--sources: 2001:db8::1 is not of the target's address family");
  EXPECT_TRUE(convert_sources("198.18.1.1,", v4).error().message.starts_with("--sources: "));
}

TEST(CliCommon, ConvertDurationNamesTheOptionAndKeepsTheCode) {
  EXPECT_EQ(*convert_duration("--duration", "1.5s", kToolDurations), milliseconds(1500));
  auto zero = convert_duration("--timeout", "0s", kToolDurations);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "--timeout: \"0s\" must be longer than 0");
  EXPECT_EQ(zero.error().code, ErrorCode::kOutOfRange);
  EXPECT_EQ(*convert_duration("--reconnect-delay", "0s", kToolDelays), milliseconds(0));
  EXPECT_EQ(convert_duration("--duration", "2x", kToolDurations).error().message,
            "--duration: \"2x\" has unit \"x\"; use ms, s, m or h");
}

TEST(CliCommon, AssignMovesTheValueOrPassesTheError) {
  milliseconds out{7};
  EXPECT_TRUE(assign(out, Result<milliseconds>(milliseconds(3))));
  EXPECT_EQ(out, milliseconds(3));
  Status failed = assign(out, convert_duration("--timeout", "x", kToolDurations));
  ASSERT_FALSE(failed);
  EXPECT_TRUE(failed.error().message.starts_with("--timeout: \"x\"")) << failed.error().message;
  EXPECT_EQ(out, milliseconds(3));
}

}  // namespace
}  // namespace rail::traffic
