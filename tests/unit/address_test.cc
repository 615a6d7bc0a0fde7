// Unit tests for IpAddress / MacAddress parsing and canonical formatting.
#include "core/net/address.h"

#include <gtest/gtest.h>

namespace rail {
namespace {

TEST(IpAddress, ParsesAndFormatsIpv4) {
  auto a = IpAddress::parse("198.18.0.1");
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_host_order(), 0xC6120001u);
  EXPECT_EQ(a->to_string(), "198.18.0.1");
}

TEST(IpAddress, ParsesAndFormatsIpv6Canonically) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"2001:db8::1", "2001:db8::1"},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"::", "::"},
      {"::1", "::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      {"::ffff:198.18.0.1", "::ffff:c612:1"},
  };
  for (const auto& c : cases) {
    auto a = IpAddress::parse(c.in);
    ASSERT_TRUE(a) << c.in;
    EXPECT_TRUE(a->is_v6());
    EXPECT_EQ(a->to_string(), c.out) << c.in;
  }
}

TEST(IpAddress, RejectsMalformedText) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "2001:db8:::1",
                          "1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", ":"}) {
    auto a = IpAddress::parse(bad);
    EXPECT_FALSE(a) << "accepted '" << bad << "'";
    if (!a) {
      EXPECT_NE(a.error().message.find("not an IPv4 or IPv6"), std::string::npos);
    }
  }
}

TEST(IpAddress, OrdersV4BeforeV6AndByBytes) {
  EXPECT_LT(*IpAddress::parse("198.18.0.1"), *IpAddress::parse("198.18.0.2"));
  EXPECT_LT(*IpAddress::parse("255.255.255.255"), *IpAddress::parse("::1"));
}

TEST(MacAddress, ParsesAndFormats) {
  auto m = MacAddress::parse("02:00:0A:ff:00:01");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->to_string(), "02:00:0a:ff:00:01");
  EXPECT_FALSE(MacAddress::parse("02:00:0a:ff:00"));
  EXPECT_FALSE(MacAddress::parse("02-00-0a-ff-00-01"));
  EXPECT_TRUE(MacAddress().is_zero());
}

}  // namespace
}  // namespace rail
