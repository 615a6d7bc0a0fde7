// Tests for LbConfig::validate(): each rule rejects what it should, names the service and the
// problem, and a sound config passes.
#include "core/lb_config.h"

#include <gtest/gtest.h>

#include <string>

namespace rail {
namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

Backend backend(const char* address, const char* name = "") {
  Backend b;
  b.name = name;
  b.address = ip(address);
  return b;
}

// A config that passes: one IPv4 and one IPv6 service, outer sources for both families.
LbConfig good_config() {
  LbConfig config;
  config.node.outer_source_v4 = ip("198.18.1.1");
  config.node.outer_source_v6 = ip("2001:db8:1::1");
  Service web;
  web.vip = ip("198.18.100.1");
  web.port = 80;
  web.backends = {backend("198.18.2.1"), backend("198.18.2.2")};
  Service dns;
  dns.vip = ip("2001:db8::53");
  dns.protocol = Protocol::kUdp;
  dns.port = 53;
  dns.backends = {backend("2001:db8:2::1"), backend("198.18.2.3")};
  config.services = {web, dns};
  return config;
}

// The error message of an invalid config (fails the test if the config is valid).
std::string problems_of(const LbConfig& config) {
  Status status = config.validate();
  EXPECT_FALSE(status.has_value());
  if (status.has_value()) return "";
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  return status.error().message;
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

TEST(LbConfigValidate, SoundConfigPasses) {
  Status status = good_config().validate();
  EXPECT_TRUE(status.has_value()) << (status ? "" : status.error().describe());
}

TEST(LbConfigValidate, NonPrimeTableSize) {
  for (uint32_t size : {0u, 1u, 4u, 65536u, 65535u, 561u /* Carmichael: 3*11*17 */}) {
    LbConfig config = good_config();
    config.services[0].table_size = size;
    const std::string text = problems_of(config);
    EXPECT_CONTAINS(text, "service 198.18.100.1:80/tcp");
    EXPECT_CONTAINS(text, "table size " + std::to_string(size) + " is not prime");
  }
  for (uint32_t size : {2u, 251u, 65537u, 655373u}) {
    LbConfig config = good_config();
    config.services[0].table_size = size;
    EXPECT_TRUE(config.validate().has_value()) << size;
  }
}

TEST(LbConfigValidate, DuplicateService) {
  LbConfig config = good_config();
  config.services.push_back(config.services[0]);
  EXPECT_CONTAINS(problems_of(config), "service 198.18.100.1:80/tcp is defined twice");
  // Same VIP and port but another protocol is another service.
  LbConfig other = good_config();
  other.services.push_back(other.services[0]);
  other.services.back().protocol = Protocol::kUdp;
  EXPECT_TRUE(other.validate().has_value());
}

TEST(LbConfigValidate, DuplicateBackendIdentity) {
  LbConfig config = good_config();
  config.services[0].backends.push_back(backend("198.18.2.1"));
  EXPECT_CONTAINS(problems_of(config),
                  "service 198.18.100.1:80/tcp: backend identity '198.18.2.1' appears twice");
  // Names are the identity when set: two addresses under one name collide too.
  LbConfig named = good_config();
  named.services[0].backends = {backend("198.18.2.1", "a"), backend("198.18.2.2", "a")};
  EXPECT_CONTAINS(problems_of(named), "backend identity 'a' appears twice");
}

TEST(LbConfigValidate, MissingOuterSource) {
  LbConfig no_v4 = good_config();
  no_v4.node.outer_source_v4.reset();
  const std::string text = problems_of(no_v4);
  EXPECT_CONTAINS(text,
                  "service 198.18.100.1:80/tcp: backend 198.18.2.1 is IPv4 but the node has "
                  "no outer_source_v4");
  EXPECT_CONTAINS(text, "service [2001:db8::53]:53/udp: backend 198.18.2.3 is IPv4");
  LbConfig no_v6 = good_config();
  no_v6.node.outer_source_v6.reset();
  EXPECT_CONTAINS(problems_of(no_v6),
                  "backend 2001:db8:2::1 is IPv6 but the node has no "
                  "outer_source_v6");
  // L2 DSR sends no outer header, so it needs no outer source.
  LbConfig l2 = good_config();
  l2.services.erase(l2.services.begin() + 1);
  l2.services[0].encap = Encap::kL2;
  l2.node.outer_source_v4.reset();
  EXPECT_TRUE(l2.validate().has_value());
}

TEST(LbConfigValidate, L2NeedsTheVipFamily) {
  LbConfig config = good_config();
  config.services[1].encap = Encap::kL2;  // IPv6 VIP with an IPv4 backend
  const std::string text = problems_of(config);
  EXPECT_CONTAINS(text, "service [2001:db8::53]:53/udp: l2 encapsulation needs backend 198.18.2.3");
  EXPECT_EQ(text.find("2001:db8:2::1"), std::string::npos) << text;  // the v6 backend is fine
}

TEST(LbConfigValidate, MtuBounds) {
  for (uint32_t mtu : {575u, 9217u, 0u}) {
    LbConfig config = good_config();
    config.services.erase(config.services.begin() + 1);  // IPv4 only: just the node bounds
    config.node.mtu = mtu;
    EXPECT_CONTAINS(problems_of(config),
                    "node mtu " + std::to_string(mtu) + " is outside 576..9216");
  }
  // IPv6 inside GRE over IPv6 needs 1280 + 40 + 4 = 1324 bytes of MTU (RFC 8200 §5 minimum).
  LbConfig v6 = good_config();
  v6.node.mtu = 1323;
  EXPECT_CONTAINS(problems_of(v6),
                  "service [2001:db8::53]:53/udp: mtu 1323 leaves less than 1280 "
                  "bytes for IPv6 inside gre to 2001:db8:2::1");
  v6.node.mtu = 1324;
  EXPECT_TRUE(v6.validate().has_value());
}

TEST(LbConfigValidate, HashFieldsMustBeANonEmptySubsetOfTheFiveTuple) {
  LbConfig config = good_config();
  config.services[0].hash_fields = 0;
  EXPECT_CONTAINS(problems_of(config), "service 198.18.100.1:80/tcp: hash fields");
  config.services[0].hash_fields = 0x20;
  EXPECT_CONTAINS(problems_of(config), "hash fields must be a non-empty subset");
}

TEST(LbConfigValidate, ListsEveryProblem) {
  LbConfig config = good_config();
  config.node.mtu = 100;
  config.services[0].table_size = 100;
  config.services[1].port = 0;
  config.services[1].table_size = 9;
  const std::string text = problems_of(config);
  EXPECT_CONTAINS(text, "node mtu 100");
  EXPECT_CONTAINS(text, "198.18.100.1:80/tcp: table size 100 is not prime");
  EXPECT_CONTAINS(text, "[2001:db8::53]:any/udp: table size 9 is not prime");
}

}  // namespace
}  // namespace rail
