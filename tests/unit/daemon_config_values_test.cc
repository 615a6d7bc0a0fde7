// Scalar parsers of rail.yaml (numbers, ports, durations, booleans, listen addresses) and typo
// hints.
#include <gtest/gtest.h>

#include "daemon/config/diagnostics.h"
#include "daemon/config/values.h"

namespace rail::daemon {
namespace {

TEST(DaemonConfigValues, WholeNumbers) {
  EXPECT_EQ(*parse_uint("1500", 0, 9216), 1500u);
  EXPECT_EQ(*parse_uint("0x5261696c", 0, UINT32_MAX), 0x5261696cu);
  EXPECT_EQ(parse_uint("-1", 0, 10).error().message, "\"-1\" is not a whole number");
  EXPECT_EQ(parse_uint("12abc", 0, 100).error().message, "\"12abc\" is not a whole number");
  EXPECT_EQ(parse_uint("", 0, 100).error().message, "\"\" is not a whole number");
  EXPECT_EQ(parse_uint("100000", 576, 9216).error().message, "100000 is outside 576..9216");
  EXPECT_EQ(parse_uint("99999999999999999999999", 0, 10).error().code, ErrorCode::kOutOfRange);
}

TEST(DaemonConfigValues, PortsAndAny) {
  EXPECT_EQ(*parse_port_or_any("any"), 0);
  EXPECT_EQ(*parse_port_or_any("443"), 443);
  EXPECT_EQ(parse_port_or_any("70000").error().message,
            "70000 is not a port (0..65535 or \"any\")");
  EXPECT_FALSE(parse_port_or_any("http"));
}

// rail.yaml's rules over core/duration's grammar (the grammar itself: duration_test.cc).
TEST(DaemonConfigValues, Durations) {
  EXPECT_EQ(*parse_duration("500ms", kConfigDurations), Millis(500));
  EXPECT_EQ(*parse_duration("2s", kConfigDurations), Millis(2000));
  EXPECT_EQ(*parse_duration("1m", kConfigDurations), Millis(60000));
  EXPECT_EQ(*parse_duration("1.5s", kConfigDurations), Millis(1500));
  EXPECT_EQ(*parse_duration("2h", kConfigDurations), Millis(7'200'000));
  EXPECT_EQ(parse_duration("2", kConfigDurations).error().message,
            "2 needs a unit: \"2ms\" or \"2s\"");
  EXPECT_EQ(parse_duration("0", kConfigDurations).error().message,
            "0 needs a unit: \"0ms\" or \"0s\"");
  EXPECT_EQ(parse_duration("2d", kConfigDurations).error().message,
            "\"2d\" has unit \"d\"; use ms, s, m or h");
  EXPECT_EQ(parse_duration("0s", kConfigDurations).error().message, "\"0s\" must be longer than 0");
  EXPECT_EQ(parse_duration("2000m", kConfigDurations).error().message,
            "\"2000m\" is longer than 24h");
  EXPECT_FALSE(parse_duration("1.5ms", kConfigDurations));
  EXPECT_FALSE(parse_duration("s", kConfigDurations));
  EXPECT_FALSE(parse_duration("-1s", kConfigDurations));
  EXPECT_EQ(format_duration(Millis(1500)), "1500ms");
  EXPECT_EQ(format_duration(Millis(2000)), "2s");
  EXPECT_EQ(format_duration(Millis(120000)), "2m");
}

TEST(DaemonConfigValues, Booleans) {
  EXPECT_TRUE(*parse_bool("true"));
  EXPECT_FALSE(*parse_bool("false"));
  EXPECT_EQ(parse_bool("yes").error().message, "\"yes\" is not true or false");
}

TEST(DaemonConfigValues, ListenAddresses) {
  auto v4 = parse_listen("127.0.0.1:9180");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->address.to_string(), "127.0.0.1");
  EXPECT_EQ(v4->port, 9180);
  auto v6 = parse_listen("[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->address.is_v6());
  EXPECT_EQ(format_listen(*v6), "[::1]:80");
  EXPECT_FALSE(parse_listen("::1:80"));  // IPv6 needs brackets
  EXPECT_FALSE(parse_listen("127.0.0.1"));
  EXPECT_FALSE(parse_listen("127.0.0.1:0"));
  EXPECT_FALSE(parse_listen("localhost:9180"));
}

TEST(DaemonConfigValues, TypoSuggestions) {
  std::vector<std::string> keys = {"mtu", "gue_port", "interfaces", "hash_seed"};
  EXPECT_EQ(closest_name("mtus", keys), "mtu");
  EXPECT_EQ(closest_name("interface", keys), "interfaces");
  EXPECT_EQ(closest_name("gueport", keys), "gue_port");
  EXPECT_EQ(closest_name("colour", keys), "");
  EXPECT_EQ(did_you_mean("wbe", {"web", "api"}), " (did you mean \"web\"?)");
  EXPECT_EQ(did_you_mean("zzz", {"web"}), "");
}

}  // namespace
}  // namespace rail::daemon
