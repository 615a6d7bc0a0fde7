// Tests for ConnTable (per-protocol idle timeouts) and FragTable (datagram identity, timeout).
#include <gtest/gtest.h>

#include "core/conntrack/conn_table.h"
#include "core/conntrack/frag_table.h"

namespace rail {
namespace {

constexpr uint64_t kSec = kNanosPerSecond;

FlowKey flow(uint32_t client, uint16_t sport, uint8_t proto) {
  return FlowKey::from_wire_v4(RAIL_HTONL(0xC6120000u + client), RAIL_HTONL(0xC6126401u),
                               RAIL_HTONS(sport), RAIL_HTONS(80), proto);
}

TEST(ConnTable, DefaultTimeoutsAreTcp300sUdp30s) {
  ConnTable table(16);
  const FlowKey tcp = flow(1, 40000, packet::kIpProtoTcp);
  const FlowKey udp = flow(1, 40000, packet::kIpProtoUdp);
  const FlowKey gre = flow(1, 0, 47);
  table.upsert(tcp, {1}, 0);
  table.upsert(udp, {2}, 0);
  table.upsert(gre, {3}, 0);
  EXPECT_NE(table.peek(udp, 30 * kSec - 1), nullptr);
  EXPECT_EQ(table.peek(udp, 30 * kSec), nullptr);
  EXPECT_EQ(table.peek(gre, 30 * kSec), nullptr);
  ASSERT_NE(table.peek(tcp, 300 * kSec - 1), nullptr);
  EXPECT_EQ(table.peek(tcp, 300 * kSec - 1)->backend_id, 1u);
  EXPECT_EQ(table.peek(tcp, 300 * kSec), nullptr);
  EXPECT_EQ(table.stats().expirations, 3u);
}

TEST(ConnTable, CustomTimeoutsAndRefresh) {
  ConnTable table(16, ConnTimeouts{.tcp_ns = 10, .udp_ns = 5, .other_ns = 1});
  const FlowKey udp = flow(2, 50000, packet::kIpProtoUdp);
  table.upsert(udp, {9}, 100);
  EXPECT_NE(table.lookup(udp, 104), nullptr);  // refreshed: live until 109
  EXPECT_NE(table.lookup(udp, 108), nullptr);
  EXPECT_EQ(table.lookup(udp, 113), nullptr);
}

TEST(ConnTable, PeekForIcmpDoesNotExtendTheFlow) {
  ConnTable table(16, ConnTimeouts{.tcp_ns = 100, .udp_ns = 100, .other_ns = 100});
  const FlowKey tcp = flow(3, 40000, packet::kIpProtoTcp);
  table.upsert(tcp, {4}, 0);
  for (uint64_t t = 10; t < 100; t += 10) EXPECT_NE(table.peek(tcp, t), nullptr);
  EXPECT_EQ(table.peek(tcp, 100), nullptr);
}

TEST(ConnTable, EvictsLeastRecentlyUsedFlowWhenFull) {
  ConnTable table(2);
  table.upsert(flow(1, 1, packet::kIpProtoTcp), {1}, 0);
  table.upsert(flow(2, 2, packet::kIpProtoTcp), {2}, 1);
  ASSERT_NE(table.lookup(flow(1, 1, packet::kIpProtoTcp), 2), nullptr);
  table.upsert(flow(3, 3, packet::kIpProtoTcp), {3}, 3);
  EXPECT_EQ(table.peek(flow(2, 2, packet::kIpProtoTcp), 4), nullptr);
  EXPECT_NE(table.peek(flow(1, 1, packet::kIpProtoTcp), 4), nullptr);
  EXPECT_EQ(table.stats().evictions, 1u);
}

TEST(ConnTable, HashSeedDoesNotChangeBehaviour) {
  ConnTable a(64, ConnTimeouts(), 1), b(64, ConnTimeouts(), 0xfeedface);
  for (uint32_t i = 0; i < 100; ++i) {
    a.upsert(flow(i, 40000, packet::kIpProtoTcp), {i}, i);
    b.upsert(flow(i, 40000, packet::kIpProtoTcp), {i}, i);
  }
  for (uint32_t i = 0; i < 100; ++i) {
    const ConnEntry* x = a.peek(flow(i, 40000, packet::kIpProtoTcp), 200);
    const ConnEntry* y = b.peek(flow(i, 40000, packet::kIpProtoTcp), 200);
    ASSERT_EQ(x == nullptr, y == nullptr) << i;
    EXPECT_EQ(x == nullptr, i < 36) << i;  // 100 inserted into 64: the oldest 36 evicted
    if (x) {
      EXPECT_EQ(x->backend_id, y->backend_id);
    }
  }
}

TEST(FragKey, IdentifiesTheDatagramNotThePorts) {
  const FlowKey first = flow(1, 40000, packet::kIpProtoUdp);
  EXPECT_EQ(FragKey::of(first, 77), FragKey::of(first.without_ports(), 77));
  EXPECT_NE(FragKey::of(first, 77), FragKey::of(first, 78));
  EXPECT_NE(FragKey::of(first, 77), FragKey::of(flow(1, 40000, packet::kIpProtoTcp), 77));
  EXPECT_NE(FragKey::of(first, 77), FragKey::of(first.reversed(), 77));
  // IPv4 identification is 16 bits; IPv6's fragment-header identification is 32.
  EXPECT_EQ(FragKey::of(first, 0x10005).ip_id, 0x5u);
  const IpAddress s = *IpAddress::parse("2001:db8::1"), d = *IpAddress::parse("2001:db8::2");
  const FlowKey v6 = FlowKey::make_v6(s, d, 0, 0, packet::kIpProtoUdp);
  EXPECT_EQ(FragKey::of(v6, 0x10005).ip_id, 0x10005u);
  EXPECT_EQ(FragKey::of(v6, 0x10005).family, RAIL_AF_INET6);
}

TEST(FragTable, LaterFragmentsFindTheFirstOnesBackendUntilIdle) {
  FragTable table(8);
  const FragKey datagram = FragKey::of(flow(5, 1111, packet::kIpProtoUdp), 4242);
  table.upsert(datagram, FragEntry{.service_index = 3, .backend_id = 17}, 0);
  const FragEntry* hit = table.lookup(datagram, 29 * kSec);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->service_index, 3u);
  EXPECT_EQ(hit->backend_id, 17u);
  EXPECT_NE(table.lookup(datagram, 58 * kSec), nullptr);  // each fragment refreshes
  EXPECT_EQ(table.lookup(datagram, 88 * kSec), nullptr);  // 30 s after the last one
  EXPECT_EQ(table.stats().expirations, 1u);
}

TEST(FragTable, CustomTimeoutAndCapacity) {
  FragTable table(2, /*idle_timeout_ns=*/5);
  for (uint32_t id = 0; id < 3; ++id)
    table.upsert(FragKey::of(flow(1, 0, packet::kIpProtoUdp), id), {0, id}, 0);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.stats().evictions, 1u);
  EXPECT_EQ(table.peek(FragKey::of(flow(1, 0, packet::kIpProtoUdp), 2), 5), nullptr);
}

}  // namespace
}  // namespace rail
