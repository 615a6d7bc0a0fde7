// Tests for FlowKey: ABI layout, constructors, accessors, reversal, text form, hasher.
#include "core/flow/flow_key.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <unordered_set>

namespace rail {
namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

TEST(FlowKey, V4FieldsAreInNetworkOrderLikeTheAbi) {
  const FlowKey key = FlowKey::make_v4(ip("198.18.0.10"), ip("198.18.100.1"), 40000, 80, 6);
  const auto* bytes = reinterpret_cast<const uint8_t*>(&key.raw);
  // src[0] = 198.18.0.10 as on the wire, then three zero words.
  EXPECT_EQ(bytes[0], 198);
  EXPECT_EQ(bytes[1], 18);
  EXPECT_EQ(bytes[2], 0);
  EXPECT_EQ(bytes[3], 10);
  for (int i = 4; i < 16; ++i) EXPECT_EQ(bytes[i], 0) << i;
  EXPECT_EQ(bytes[16], 198);
  EXPECT_EQ(bytes[19], 1);
  const size_t sport_at = offsetof(rail_flow_key, sport);
  EXPECT_EQ(bytes[sport_at], 40000 >> 8);
  EXPECT_EQ(bytes[sport_at + 1], 40000 & 0xff);
  EXPECT_EQ(key.raw.proto, 6);
  EXPECT_EQ(key.raw.family, RAIL_AF_INET);
  EXPECT_EQ(key.raw.pad, 0);
  EXPECT_EQ(key.src_port(), 40000);
  EXPECT_EQ(key.dst_port(), 80);
  EXPECT_EQ(key.src(), ip("198.18.0.10"));
  EXPECT_EQ(key.dst(), ip("198.18.100.1"));
}

TEST(FlowKey, WireAndValueConstructorsAgree) {
  const FlowKey a =
      FlowKey::make_v4(ip("198.18.0.3"), ip("198.18.100.9"), 1234, 53, packet::kIpProtoUdp);
  const FlowKey b = FlowKey::from_wire_v4(RAIL_HTONL(0xC6120003u), RAIL_HTONL(0xC6126409u),
                                          RAIL_HTONS(1234), RAIL_HTONS(53), packet::kIpProtoUdp);
  EXPECT_EQ(a, b);
  const IpAddress s6 = ip("2001:db8::1"), d6 = ip("2001:db8::2");
  EXPECT_EQ(FlowKey::make_v6(s6, d6, 1, 2, 6),
            FlowKey::from_wire_v6(s6.data(), d6.data(), RAIL_HTONS(1), RAIL_HTONS(2), 6));
}

TEST(FlowKey, EqualityCoversEveryField) {
  const FlowKey base = FlowKey::make_v4(ip("198.18.0.4"), ip("198.18.100.8"), 10, 20, 6);
  EXPECT_EQ(base, FlowKey::make_v4(ip("198.18.0.4"), ip("198.18.100.8"), 10, 20, 6));
  EXPECT_NE(base, FlowKey::make_v4(ip("198.18.0.5"), ip("198.18.100.8"), 10, 20, 6));
  EXPECT_NE(base, FlowKey::make_v4(ip("198.18.0.4"), ip("198.18.100.9"), 10, 20, 6));
  EXPECT_NE(base, FlowKey::make_v4(ip("198.18.0.4"), ip("198.18.100.8"), 11, 20, 6));
  EXPECT_NE(base, FlowKey::make_v4(ip("198.18.0.4"), ip("198.18.100.8"), 10, 21, 6));
  EXPECT_NE(base, FlowKey::make_v4(ip("198.18.0.4"), ip("198.18.100.8"), 10, 20, 17));
  // Same bytes in the first word, different family.
  EXPECT_NE(FlowKey::make_v4(ip("0.0.0.0"), ip("0.0.0.0"), 0, 0, 6),
            FlowKey::make_v6(ip("::"), ip("::"), 0, 0, 6));
}

TEST(FlowKey, MakeRejectsMixedFamilies) {
  auto key = FlowKey::make(ip("198.18.0.4"), ip("2001:db8::1"), 1, 2, 6);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(key.error().message.find("198.18.0.4"), std::string::npos);
  auto v6 = FlowKey::make(ip("2001:db8::1"), ip("2001:db8::2"), 1, 2, 6);
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->is_v6());
}

TEST(FlowKey, ReversedAndWithoutPorts) {
  const FlowKey key = FlowKey::make_v4(ip("198.18.0.10"), ip("198.18.100.1"), 40000, 80, 6);
  const FlowKey r = key.reversed();
  EXPECT_EQ(r.src(), ip("198.18.100.1"));
  EXPECT_EQ(r.dst(), ip("198.18.0.10"));
  EXPECT_EQ(r.src_port(), 80);
  EXPECT_EQ(r.dst_port(), 40000);
  EXPECT_EQ(r.reversed(), key);
  const FlowKey t = key.without_ports();
  EXPECT_EQ(t.src_port(), 0);
  EXPECT_EQ(t.dst_port(), 0);
  EXPECT_EQ(t.src(), key.src());
  EXPECT_EQ(t.proto(), 6);
}

TEST(FlowKey, ToString) {
  EXPECT_EQ(FlowKey::make_v4(ip("198.18.0.10"), ip("198.18.100.1"), 40000, 80, 6).to_string(),
            "tcp 198.18.0.10:40000 -> 198.18.100.1:80");
  EXPECT_EQ(FlowKey::make_v6(ip("2001:db8::1"), ip("2001:db8::2"), 53, 53, 17).to_string(),
            "udp [2001:db8::1]:53 -> [2001:db8::2]:53");
  EXPECT_EQ(FlowKey::make_v4(ip("1.1.1.1"), ip("2.2.2.2"), 0, 0, 47).to_string(),
            "proto-47 1.1.1.1:0 -> 2.2.2.2:0");
}

TEST(FlowKeyHasher, DistinctKeysRarelyCollideAndSeedChangesHash) {
  FlowKeyHasher h0{0}, h1{1};
  std::unordered_set<uint64_t> low20;  // the bits a 1M-bucket table would use
  const int n = 4096;
  int seed_differs = 0;
  for (int i = 0; i < n; ++i) {
    const FlowKey key = FlowKey::from_wire_v4(RAIL_HTONL(0xC6120000u + i), RAIL_HTONL(0xC6126401u),
                                              RAIL_HTONS(40000), RAIL_HTONS(80), 6);
    low20.insert(h0(key) & 0xFFFFF);
    seed_differs += h0(key) != h1(key);
  }
  // 4096 keys into 2^20 values: expected collisions ~8; sequential addresses must not cluster.
  EXPECT_GT(low20.size(), size_t(n - 40));
  EXPECT_EQ(seed_differs, n);
}

}  // namespace
}  // namespace rail
