// Unit tests: duration, endpoint and --sources parsing, round-robin source picking.
#include <gtest/gtest.h>

#include "tools/traffic/socket_util.h"
#include "tools/traffic/traffic_options.h"

namespace rail::traffic {
namespace {

using std::chrono::milliseconds;

// The tools' rules over core/duration's grammar (the grammar itself: tests/unit/duration_test.cc).
TEST(ToolDurations, UnitsFractionsAndBareSeconds) {
  EXPECT_EQ(*parse_duration("2s", kToolDurations), milliseconds(2000));
  EXPECT_EQ(*parse_duration("500ms", kToolDurations), milliseconds(500));
  EXPECT_EQ(*parse_duration("1.5s", kToolDurations), milliseconds(1500));
  EXPECT_EQ(*parse_duration("1m", kToolDurations), milliseconds(60'000));
  EXPECT_EQ(*parse_duration("2h", kToolDurations), milliseconds(7'200'000));
  EXPECT_EQ(*parse_duration("3", kToolDurations), milliseconds(3000));  // bare number = seconds
  EXPECT_EQ(*parse_duration("8760h", kToolDurations), milliseconds(8760LL * 3'600'000));
  EXPECT_EQ(parse_duration("8761h", kToolDurations).error().message,
            "\"8761h\" is longer than 8760h");
}

TEST(ToolDurations, ZeroOnlyForDelays) {
  EXPECT_EQ(parse_duration("0s", kToolDurations).error().message, "\"0s\" must be longer than 0");
  EXPECT_EQ(parse_duration("0", kToolDurations).error().message, "\"0\" must be longer than 0");
  EXPECT_EQ(*parse_duration("0s", kToolDelays), milliseconds(0));
  EXPECT_EQ(*parse_duration("0", kToolDelays), milliseconds(0));
}

TEST(ToolDurations, RejectsMalformedTextNamingIt) {
  for (const char* bad : {"", "s", "2x", "-1s", "1.2.3s", "2 s", "ms", "1e3s", "2sec", "1.5ms"}) {
    auto d = parse_duration(bad, kToolDurations);
    ASSERT_FALSE(d) << bad;
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(d.error().message.find(bad), std::string::npos) << d.error().message;
  }
}

TEST(ParseEndpoint, Ipv4AndBracketedIpv6) {
  auto v4 = parse_endpoint("198.18.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->address().to_string(), "198.18.0.1");
  EXPECT_EQ(v4->port(), 8080);
  EXPECT_EQ(v4->to_string(), "198.18.0.1:8080");
  auto v6 = parse_endpoint("[2001:db8::1]:443");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_EQ(v6->port(), 443);
  EXPECT_EQ(v6->to_string(), "[2001:db8::1]:443");
  sockaddr_storage storage;
  EXPECT_EQ(v6->to_sockaddr(storage), socklen_t(sizeof(sockaddr_in6)));
  Endpoint back = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), sizeof(storage));
  EXPECT_EQ(back.to_string(), "[2001:db8::1]:443");
}

TEST(ParseEndpoint, RejectsMalformedTargets) {
  for (const char* bad : {"198.18.0.1", "198.18.0.1:0", "198.18.0.1:65536", "2001:db8::1:80",
                          "[2001:db8::1]80", "[2001:db8::1]", "host:80", ":80", "1.2.3.4:x"}) {
    EXPECT_FALSE(parse_endpoint(bad)) << bad;
  }
}

std::vector<std::string> texts(const std::vector<IpAddress>& addresses) {
  std::vector<std::string> out;
  for (const IpAddress& a : addresses) out.push_back(a.to_string());
  return out;
}

TEST(ParseSources, RangeCidrSingleAndLists) {
  EXPECT_EQ(texts(*parse_sources("198.18.1.10-198.18.1.12")),
            (std::vector<std::string>{"198.18.1.10", "198.18.1.11", "198.18.1.12"}));
  EXPECT_EQ(texts(*parse_sources("198.18.1.5/30")),  // the whole prefix, from its network
            (std::vector<std::string>{"198.18.1.4", "198.18.1.5", "198.18.1.6", "198.18.1.7"}));
  EXPECT_EQ(texts(*parse_sources("198.18.1.255-198.18.2.0")),  // carries across octets
            (std::vector<std::string>{"198.18.1.255", "198.18.2.0"}));
  EXPECT_EQ(texts(*parse_sources("2001:db8::ffff-2001:db8::1:1")),
            (std::vector<std::string>{"2001:db8::ffff", "2001:db8::1:0", "2001:db8::1:1"}));
  EXPECT_EQ(texts(*parse_sources("2001:db8::/127")),
            (std::vector<std::string>{"2001:db8::", "2001:db8::1"}));
  EXPECT_EQ(texts(*parse_sources("198.18.1.1,198.18.1.9-198.18.1.10,198.18.2.0/32")),
            (std::vector<std::string>{"198.18.1.1", "198.18.1.9", "198.18.1.10", "198.18.2.0"}));
  EXPECT_TRUE(parse_sources("")->empty());
  EXPECT_EQ(parse_sources("198.18.0.0/16")->size(), kMaxSources);
}

TEST(ParseSources, RejectsMalformedOrHugeLists) {
  for (const char* bad : {"198.18.1.12-198.18.1.10", "198.18.1.1-2001:db8::1", "198.18.1.1/33",
                          "198.18.1.1/", "198.18.0.0/15", "2001:db8::/64", "198.18.1.1,",
                          ",198.18.1.1", "198.18.1.x", "198.18.1.1-", "198.18.0.0-198.19.0.0"}) {
    auto s = parse_sources(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(SourcePicker, RoundRobin) {
  SourcePicker picker(*parse_sources("198.18.1.1-198.18.1.3"));
  std::vector<std::string> picked;
  for (int i = 0; i < 7; ++i) picked.push_back(picker.next().to_string());
  EXPECT_EQ(picked,
            (std::vector<std::string>{"198.18.1.1", "198.18.1.2", "198.18.1.3", "198.18.1.1",
                                      "198.18.1.2", "198.18.1.3", "198.18.1.1"}));
  EXPECT_TRUE(SourcePicker({}).empty());
}

TEST(ErrorKind, NamesTheUsualFailures) {
  EXPECT_EQ(error_kind(ECONNREFUSED), "refused");
  EXPECT_EQ(error_kind(ECONNRESET), "reset");
  EXPECT_EQ(error_kind(ETIMEDOUT), "timeout");
  EXPECT_EQ(error_kind(EHOSTUNREACH), "unreachable");
  EXPECT_EQ(error_kind(EADDRNOTAVAIL), "addr-not-available");
  EXPECT_EQ(error_kind(EDOM), "errno-" + std::to_string(EDOM));
}

}  // namespace
}  // namespace rail::traffic
