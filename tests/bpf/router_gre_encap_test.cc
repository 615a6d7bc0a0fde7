// bpf/router_gre_encap.bpf.c through BPF_PROG_TEST_RUN: exact GRE frames, pass cases, counters,
// and the produced frames balanced by the reference forwarder exactly like the plain packets.
#include <linux/pkt_cls.h>

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <vector>

#include "core/forwarder/forwarder.h"
#include "core/packet/builder.h"
#include "core/packet/checksum.h"
#include "golden/golden_world.h"
#include "router_encap/router_gre_encap.h"
#include "test_run.h"

namespace rail {
namespace {

using golden::Bytes;
using packet::PacketBuilder;
using testbed::IpPrefix;
using testbed::RouterGreEncap;

// The router of the golden world (golden/golden_world.h): its fabric addresses, and one more
// Rail node beside golden::kNodeMac that only has an IPv4 ingress address.
const IpAddress kRouter4 = golden::ip("198.18.1.254");
const IpAddress kRouter6 = golden::ip("2001:db8:1::fe");
const MacAddress kNode2Mac = golden::mac("02:00:00:00:0b:02");
const IpAddress kNode2v4 = golden::ip("198.18.1.2");
const MacAddress kStrangerMac = golden::mac("02:00:00:00:0c:01");

class RouterGreEncapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto encap = RouterGreEncap::load({.outer_source_v4 = kRouter4, .outer_source_v6 = kRouter6});
    ASSERT_TRUE(encap) << encap.error().describe();
    encap_.emplace(std::move(*encap));
    ASSERT_TRUE(encap_->add_vip_prefix(*IpPrefix::parse("198.18.100.0/24")));
    ASSERT_TRUE(encap_->add_vip_prefix(*IpPrefix::parse("2001:db8:100::/48")));
    ASSERT_TRUE(encap_->add_node(golden::kNodeMac, golden::kNode4, golden::kNode6));
    ASSERT_TRUE(encap_->add_node(kNode2Mac, kNode2v4, std::nullopt));
  }

  bpftest::TestRunResult run(const Bytes& frame) {
    auto result = bpftest::test_run(encap_->prog_fd(), frame);
    EXPECT_TRUE(result) << result.error().describe();
    return result ? *result : bpftest::TestRunResult{};
  }

  RouterGreEncap::Counters counters() {
    auto c = encap_->counters();
    EXPECT_TRUE(c) << c.error().describe();
    return c ? *c : RouterGreEncap::Counters{};
  }

  // Runs `frame`, expects it out unchanged with TC_ACT_OK.
  void expect_passed(const Bytes& frame, const char* what) {
    auto r = run(frame);
    EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_OK)) << what;
    EXPECT_EQ(r.output, frame) << what;
  }

  std::optional<RouterGreEncap> encap_;
};

// PacketBuilder.payload() after eth() leaves the ethertype to us: set it from the version.
Bytes frame_to(const MacAddress& node, const Bytes& ip_packet) {
  const bool v6 = (ip_packet[0] >> 4) == 6;
  return PacketBuilder()
      .eth(golden::kRouterMac, node)
      .ethertype(v6 ? packet::kEtherTypeIpv6 : packet::kEtherTypeIpv4)
      .payload(ip_packet)
      .build();
}

TEST_F(RouterGreEncapTest, Ipv4TcpToVipBecomesExactGreFrame) {
  const Bytes inner = golden::tcp4(golden::kClient4, 40000, golden::kWeb4, 80)
                          .tos(0x28)
                          .df()
                          .syn()
                          .payload("hello")
                          .build();
  const Bytes frame = frame_to(golden::kNodeMac, inner);
  auto r = run(frame);
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_OK));
  // Outer IPv4: TOS and DF copied from the inner header, TTL 64, id 0, protocol 47.
  const Bytes expected = PacketBuilder()
                             .eth(golden::kRouterMac, golden::kNodeMac)
                             .ipv4(kRouter4, golden::kNode4)
                             .tos(0x28)
                             .df()
                             .gre()
                             .gre_protocol(packet::kEtherTypeIpv4)
                             .payload(inner)
                             .build();
  ASSERT_EQ(r.output, expected);
  // Independent of the builder: header checksum valid, fields where the RFCs put them.
  const std::span<const uint8_t> outer(r.output.data() + 14, 20);
  EXPECT_EQ(packet::internet_checksum(outer), 0);
  EXPECT_EQ(outer[8], 64);  // TTL
  EXPECT_EQ(outer[9], 47);  // GRE
  EXPECT_EQ(r.output[12], 0x08);
  EXPECT_EQ(r.output[13], 0x00);
  EXPECT_EQ((outer[2] << 8) | outer[3], 24 + inner.size());
  EXPECT_EQ(Bytes(r.output.begin() + 34, r.output.begin() + 38), (Bytes{0, 0, 0x08, 0x00}));
  EXPECT_EQ(Bytes(r.output.begin() + 38, r.output.end()), inner);

  auto c = counters();
  EXPECT_EQ(c.encapsulated.packets, 1u);
  EXPECT_EQ(c.encapsulated.bytes, frame.size());
  EXPECT_EQ(c.passed.packets, 0u);
  EXPECT_EQ(c.errors.packets, 0u);
}

TEST_F(RouterGreEncapTest, Ipv6UdpToVipBecomesIpv6OuterGre) {
  const Bytes inner = golden::udp6(golden::kClient6, 5353, golden::kWeb6, 53)
                          .tos(0x10)
                          .flow_label(0x12345)
                          .payload("query6")
                          .build();
  auto r = run(frame_to(golden::kNodeMac, inner));
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_OK));
  // Outer IPv6: traffic class and flow label copied, hop limit 64, next header 47.
  const Bytes expected = PacketBuilder()
                             .eth(golden::kRouterMac, golden::kNodeMac)
                             .ipv6(kRouter6, golden::kNode6)
                             .tos(0x10)
                             .flow_label(0x12345)
                             .gre()
                             .gre_protocol(packet::kEtherTypeIpv6)
                             .payload(inner)
                             .build();
  ASSERT_EQ(r.output, expected);
  EXPECT_EQ(r.output[14 + 6], 47);
  EXPECT_EQ(r.output[14 + 7], 64);
  EXPECT_EQ(Bytes(r.output.begin() + 58, r.output.end()), inner);
  EXPECT_EQ(counters().encapsulated.packets, 1u);
}

TEST_F(RouterGreEncapTest, AnyNodeGetsItsOwnAddress) {
  const Bytes inner = golden::udp4(golden::kClient4, 1, golden::ip("198.18.100.77"), 2).build();
  auto r = run(frame_to(kNode2Mac, inner));
  const Bytes expected = PacketBuilder()
                             .eth(golden::kRouterMac, kNode2Mac)
                             .ipv4(kRouter4, kNode2v4)
                             .gre()
                             .gre_protocol(packet::kEtherTypeIpv4)
                             .payload(inner)
                             .build();
  EXPECT_EQ(r.output, expected);
}

TEST_F(RouterGreEncapTest, EverythingElsePassesUntouched) {
  const Bytes vip4 = golden::tcp4(golden::kClient4, 40000, golden::kWeb4, 80).syn().build();
  const Bytes vip6 = golden::tcp6(golden::kClient6, 40000, golden::kWeb6, 80).syn().build();
  expect_passed(
      frame_to(golden::kNodeMac, golden::tcp4(golden::kClient4, 1, golden::kNotVip4, 80).build()),
      "IPv4 destination outside the VIP prefixes");
  expect_passed(
      frame_to(golden::kNodeMac,
               golden::udp6(golden::kClient6, 1, golden::ip("2001:db8:101::1"), 53).build()),
      "IPv6 destination outside the VIP prefixes");
  expect_passed(frame_to(kStrangerMac, vip4), "VIP packet to an unknown MAC");
  expect_passed(frame_to(kNode2Mac, vip6), "IPv6 VIP packet to a node with no IPv6 address");
  const Bytes arp = PacketBuilder()
                        .eth(golden::kRouterMac, golden::kNodeMac)
                        .ethertype(packet::kEtherTypeArp)
                        .payload(Bytes(28, 0x01))
                        .build();
  expect_passed(arp, "ARP to a node");
  expect_passed(
      PacketBuilder().eth(golden::kRouterMac, golden::kNodeMac).vlan(7).payload(vip4).build(),
      "in-band VLAN tag");
  EXPECT_EQ(counters().passed.packets, 6u);
  EXPECT_EQ(counters().encapsulated.packets, 0u);

  // Every cut of the VIP frames (the datagram longer than the frame) passes untouched. The
  // skb test run refuses frames without a whole fixed IP header (-EINVAL), so the cuts start
  // there; the BPF code checks those bounds anyway (the verifier insists).
  for (const Bytes& inner : {vip4, vip6}) {
    const Bytes whole = frame_to(golden::kNodeMac, inner);
    const size_t ip_header = (inner[0] >> 4) == 6 ? 40 : 20;
    for (size_t len = 14 + ip_header; len < whole.size(); ++len) {
      SCOPED_TRACE("cut at " + std::to_string(len));
      expect_passed(Bytes(whole.begin(), whole.begin() + len), "truncated");
    }
  }
  // An IPv4 header whose options are cut short.
  const Bytes with_options =
      frame_to(golden::kNodeMac, golden::tcp4(golden::kClient4, 1, golden::kWeb4, 80)
                                     .ipv4_options(Bytes{1, 1, 1, 0, 1, 1, 1, 0})
                                     .build());
  expect_passed(Bytes(with_options.begin(), with_options.begin() + 14 + 24), "options cut");
  EXPECT_EQ(counters().errors.packets, 0u);
  EXPECT_EQ(counters().encapsulated.packets, 0u);
}

TEST_F(RouterGreEncapTest, RemovedNodeAndPrefixStopEncapsulation) {
  const Bytes frame =
      frame_to(golden::kNodeMac, golden::tcp4(golden::kClient4, 1, golden::kWeb4, 80).build());
  EXPECT_NE(run(frame).output, frame);
  ASSERT_TRUE(encap_->remove_node(golden::kNodeMac));
  expect_passed(frame, "after remove_node");
  EXPECT_EQ(encap_->remove_node(golden::kNodeMac).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(encap_->add_node(golden::kNodeMac, golden::kNode4, std::nullopt));
  ASSERT_TRUE(encap_->remove_vip_prefix(*IpPrefix::parse("198.18.100.0/24")));
  expect_passed(frame, "after remove_vip_prefix");
}

TEST_F(RouterGreEncapTest, ConfigErrorsNameTheValue) {
  auto bad = encap_->add_node(kStrangerMac, golden::kNode6, std::nullopt);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("2001:db8:1::1"), std::string::npos);
  EXPECT_FALSE(encap_->add_node(kStrangerMac, std::nullopt, std::nullopt));
  EXPECT_FALSE(IpPrefix::parse("198.18.0.0/33"));
  EXPECT_FALSE(IpPrefix::parse("198.18.0.0/"));
  EXPECT_EQ(IpPrefix::parse("2001:db8::1")->length, 128);
  auto wrong = RouterGreEncap::load({.outer_source_v4 = kRouter6, .outer_source_v6 = {}});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidArgument);
}

// The strongest check: a Rail node (the reference forwarder, GRE ingress on its node
// addresses) balances the encapsulated frame exactly as the plain one: same verdict, same
// service, same backend, and byte-identical output towards the backend.
TEST_F(RouterGreEncapTest, ForwarderBalancesEncapsulatedFramesLikePlainOnes) {
  std::vector<Bytes> packets;
  for (uint16_t port = 1000; port < 1032; ++port) {
    packets.push_back(golden::tcp4(golden::kClient4, port, golden::kWeb4, 80).syn().build());
    packets.push_back(golden::udp4(golden::kClient4b, port, golden::kWeb4, 5000 + port).build());
    packets.push_back(golden::tcp6(golden::kClient6, port, golden::kWeb6, 80).syn().build());
    packets.push_back(golden::udp6(golden::kClient6, port, golden::kWeb6, 53).build());
  }
  Forwarder plain_node, gre_node;
  ASSERT_TRUE(plain_node.apply(golden::sample_config()));
  ASSERT_TRUE(gre_node.apply(golden::sample_config()));
  std::set<uint32_t> backends;
  for (const Bytes& inner : packets) {
    const Bytes plain = frame_to(golden::kNodeMac, inner);
    auto r = run(plain);
    ASSERT_NE(r.output, plain);
    Bytes plain_out, gre_out;
    Verdict want = plain_node.process(plain, 0, plain_out);
    Verdict got = gre_node.process(r.output, 0, gre_out);
    ASSERT_EQ(want.action, RAIL_VERDICT_TX);
    EXPECT_EQ(got.action, want.action);
    EXPECT_EQ(got.reason, want.reason);
    EXPECT_EQ(got.service_id, want.service_id);
    EXPECT_EQ(got.backend_id, want.backend_id);
    EXPECT_EQ(gre_out, plain_out);
    backends.insert(want.backend_id);
  }
  EXPECT_GE(backends.size(), 4u);  // the flows really spread: the check is not vacuous
  EXPECT_EQ(counters().encapsulated.packets, packets.size());
}

}  // namespace
}  // namespace rail
