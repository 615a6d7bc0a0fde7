// parse(build(x)) round trips: every header kind the builder writes is read back field by field.
#include <gtest/gtest.h>

#include "core/packet/builder.h"
#include "core/packet/checksum.h"
#include "core/packet/parser.h"

namespace rail::packet {
namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a) << text;
  return a ? *a : IpAddress();
}
MacAddress mac(std::string_view text) {
  auto m = MacAddress::parse(text);
  EXPECT_TRUE(m) << text;
  return m ? *m : MacAddress();
}

const MacAddress kClientMac = mac("02:00:00:00:00:01");
const MacAddress kNodeMac = mac("02:00:00:00:00:02");

TEST(PacketRoundTrip, EthernetIpv4Tcp) {
  auto frame = PacketBuilder()
                   .eth(kClientMac, kNodeMac)
                   .ipv4(ip("198.18.0.1"), ip("198.18.100.10"))
                   .ttl(61)
                   .tos(0x10)
                   .id(0x1234)
                   .df()
                   .tcp(40000, 80)
                   .syn()
                   .ack()
                   .seq(1000)
                   .ack_number(2000)
                   .payload("hello")
                   .build();
  ASSERT_EQ(frame.size(), 14u + 20 + 20 + 5);
  auto parsed = parse_frame(frame);
  ASSERT_TRUE(parsed) << parsed.detail();
  EXPECT_EQ(parsed->l2.eth.src, kClientMac);
  EXPECT_EQ(parsed->l2.eth.dst, kNodeMac);
  EXPECT_FALSE(parsed->l2.eth.has_vlan);
  EXPECT_EQ(parsed->l2.eth.ethertype, kEtherTypeIpv4);
  ASSERT_TRUE(parsed->has_l3);
  const L3Info& l3 = parsed->l3;
  EXPECT_EQ(l3.family, IpAddress::Family::kV4);
  EXPECT_EQ(l3.src, ip("198.18.0.1"));
  EXPECT_EQ(l3.dst, ip("198.18.100.10"));
  EXPECT_EQ(l3.ttl, 61);
  EXPECT_EQ(l3.tos, 0x10);
  EXPECT_EQ(l3.frag_id, 0x1234u);
  EXPECT_TRUE(l3.df);
  EXPECT_FALSE(l3.mf);
  EXPECT_FALSE(l3.is_fragment());
  EXPECT_EQ(l3.protocol, kIpProtoTcp);
  EXPECT_EQ(l3.offset, 14u);
  EXPECT_EQ(l3.l4_offset, 34u);
  EXPECT_EQ(l3.end, frame.size());
  ASSERT_TRUE(parsed->has_l4);
  EXPECT_EQ(parsed->l4.src_port, 40000);
  EXPECT_EQ(parsed->l4.dst_port, 80);
  EXPECT_EQ(parsed->l4.tcp_flags, kTcpSyn | kTcpAck);
  EXPECT_EQ(parsed->l4.tcp_seq, 1000u);
  EXPECT_EQ(parsed->l4.tcp_ack, 2000u);
  EXPECT_EQ(parsed->l4.header_length, 20u);
  // Checksums verify: summing a header holding a correct checksum gives 0.
  std::span<const uint8_t> bytes(frame);
  EXPECT_EQ(internet_checksum(bytes.subspan(14, 20)), 0);
  EXPECT_EQ(l4_checksum(l3.src, l3.dst, kIpProtoTcp, bytes.subspan(34)), 0);
}

TEST(PacketRoundTrip, VlanIpv6UdpWithPadding) {
  auto frame = PacketBuilder()
                   .eth(kClientMac, kNodeMac)
                   .vlan(0x2064)
                   .ipv6(ip("2001:db8::1"), ip("2001:db8:f::10"))
                   .tos(0xB8)
                   .flow_label(0xABCDE)
                   .ttl(7)
                   .udp(5353, 53)
                   .payload("q")
                   .pad(6)
                   .build();
  auto parsed = parse_frame(frame);
  ASSERT_TRUE(parsed) << parsed.detail();
  EXPECT_TRUE(parsed->l2.eth.has_vlan);
  EXPECT_EQ(parsed->l2.eth.vlan_tci, 0x2064);
  EXPECT_EQ(parsed->l2.l3_offset, 18u);
  const L3Info& l3 = parsed->l3;
  EXPECT_EQ(l3.family, IpAddress::Family::kV6);
  EXPECT_EQ(l3.src, ip("2001:db8::1"));
  EXPECT_EQ(l3.dst, ip("2001:db8:f::10"));
  EXPECT_EQ(l3.tos, 0xB8);
  EXPECT_EQ(l3.flow_label, 0xABCDEu);
  EXPECT_EQ(l3.ttl, 7);
  EXPECT_EQ(l3.protocol, kIpProtoUdp);
  // The datagram ends before the 6 padding bytes.
  EXPECT_EQ(l3.end, frame.size() - 6);
  EXPECT_EQ(parsed->l4.src_port, 5353);
  EXPECT_EQ(parsed->l4.dst_port, 53);
  EXPECT_EQ(parsed->l4.udp_length, 9);
  std::span<const uint8_t> seg = std::span<const uint8_t>(frame).subspan(58, 9);
  EXPECT_EQ(l4_checksum(l3.src, l3.dst, kIpProtoUdp, seg), 0);
}

TEST(PacketRoundTrip, Ipv4OptionsAndFragments) {
  const uint8_t options[] = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
  auto frame = PacketBuilder()
                   .eth(kClientMac, kNodeMac)
                   .ipv4(ip("198.18.1.254"), ip("198.18.1.1"))
                   .ipv4_options(options)
                   .id(77)
                   .mf()
                   .frag_offset(0)
                   .udp(1, 2)
                   .payload("abcdefgh")
                   .build();
  auto parsed = parse_frame(frame);
  ASSERT_TRUE(parsed) << parsed.detail();
  EXPECT_EQ(parsed->l3.header_length, 24u);
  EXPECT_EQ(parsed->l3.l4_offset, 38u);
  EXPECT_TRUE(parsed->l3.mf);
  EXPECT_TRUE(parsed->l3.is_fragment());
  EXPECT_TRUE(parsed->has_l4);  // first fragment carries the ports
  EXPECT_EQ(parsed->l4.dst_port, 2);

  auto later = PacketBuilder()
                   .eth(kClientMac, kNodeMac)
                   .ipv4(ip("198.18.1.254"), ip("198.18.1.1"))
                   .id(77)
                   .frag_offset(2)
                   .protocol(kIpProtoUdp)
                   .payload("tail")
                   .build();
  auto p2 = parse_frame(later);
  ASSERT_TRUE(p2) << p2.detail();
  EXPECT_EQ(p2->l3.frag_offset, 2);
  EXPECT_EQ(p2->l3.frag_id, 77u);
  EXPECT_TRUE(p2->l3.is_later_fragment());
  EXPECT_FALSE(p2->has_l4);
}

TEST(PacketRoundTrip, Ipv6ExtensionHeadersAndFragment) {
  auto frame = PacketBuilder()
                   .eth(kClientMac, kNodeMac)
                   .ipv6(ip("2001:db8::1"), ip("2001:db8::2"))
                   .hop_by_hop()
                   .routing_header()
                   .fragment_header(0, true, 0xCAFEF00D)
                   .dest_options()
                   .tcp(1234, 443)
                   .build();
  auto parsed = parse_frame(frame);
  ASSERT_TRUE(parsed) << parsed.detail();
  EXPECT_EQ(parsed->l3.ext_header_count, 4);
  EXPECT_EQ(parsed->l3.protocol, kIpProtoTcp);
  EXPECT_EQ(parsed->l3.l4_offset, 14u + 40 + 32);
  EXPECT_TRUE(parsed->l3.has_fragment_header);
  EXPECT_TRUE(parsed->l3.mf);
  EXPECT_EQ(parsed->l3.frag_id, 0xCAFEF00Du);
  EXPECT_EQ(parsed->l4.dst_port, 443);
  // The TCP checksum uses the upper-layer protocol and length, not the ext headers.
  std::span<const uint8_t> seg = std::span<const uint8_t>(frame).subspan(14 + 40 + 32);
  EXPECT_EQ(l4_checksum(parsed->l3.src, parsed->l3.dst, kIpProtoTcp, seg), 0);

  // Later fragment: the walk stops at the fragment header, no L4.
  auto later = PacketBuilder()
                   .eth(kClientMac, kNodeMac)
                   .ipv6(ip("2001:db8::1"), ip("2001:db8::2"))
                   .fragment_header(3, false, 9)
                   .payload(std::vector<uint8_t>(8, 0))
                   .build();
  auto p2 = parse_frame(later);
  ASSERT_TRUE(p2) << p2.detail();
  EXPECT_EQ(p2->l3.frag_offset, 3);
  EXPECT_FALSE(p2->l3.mf);
  EXPECT_FALSE(p2->has_l4);
}

TEST(PacketRoundTrip, IcmpEchoAndFragNeededWithQuote) {
  auto echo = PacketBuilder()
                  .eth(kClientMac, kNodeMac)
                  .ipv4(ip("198.18.0.1"), ip("198.18.100.10"))
                  .icmp_echo_request(0x4242, 7)
                  .payload("ping")
                  .build();
  auto pe = parse_frame(echo);
  ASSERT_TRUE(pe) << pe.detail();
  EXPECT_TRUE(pe->l4.is_icmp);
  EXPECT_EQ(pe->l4.icmp_type, kIcmpEchoRequest);
  EXPECT_EQ(pe->l4.icmp_rest, 0x42420007u);
  EXPECT_EQ(internet_checksum(std::span<const uint8_t>(echo).subspan(34)), 0);

  // A router's frag-needed about a (VIP -> client) reply, quoting IP header + 8 bytes.
  auto quoted = PacketBuilder()
                    .ipv4(ip("198.18.100.10"), ip("198.18.0.1"))
                    .ipv4_options(std::vector<uint8_t>{1, 1, 1, 0})
                    .tcp(80, 40000)
                    .build();
  quoted.resize(24 + 8);
  auto err = PacketBuilder()
                 .eth(kClientMac, kNodeMac)
                 .ipv4(ip("198.18.3.1"), ip("198.18.100.10"))
                 .icmp_frag_needed(1400)
                 .payload(quoted)
                 .build();
  auto p = parse_frame(err);
  ASSERT_TRUE(p) << p.detail();
  EXPECT_EQ(p->l4.icmp_type, kIcmpDestUnreachable);
  EXPECT_EQ(p->l4.icmp_code, kIcmpCodeFragNeeded);
  EXPECT_EQ(p->l4.icmp_rest & 0xFFFF, 1400u);
  std::span<const uint8_t> bytes(err);
  auto q = parse_icmp_quote(bytes.first(p->l3.end), p->l4.offset + 8, IpAddress::Family::kV4);
  ASSERT_TRUE(q) << q.detail();
  EXPECT_EQ(q->src, ip("198.18.100.10"));
  EXPECT_EQ(q->dst, ip("198.18.0.1"));
  EXPECT_EQ(q->protocol, kIpProtoTcp);
  EXPECT_EQ(q->src_port, 80);
  EXPECT_EQ(q->dst_port, 40000);
  EXPECT_EQ(q->l4_offset, p->l4.offset + 8 + 24);
}

TEST(PacketRoundTrip, Icmpv6PacketTooBigAndNeighborSolicitation) {
  auto quoted = PacketBuilder().ipv6(ip("2001:db8::10"), ip("2001:db8::1")).udp(53, 5353).build();
  auto ptb = PacketBuilder()
                 .eth(kClientMac, kNodeMac)
                 .ipv6(ip("2001:db8::fe"), ip("2001:db8::10"))
                 .icmpv6_packet_too_big(1280)
                 .payload(quoted)
                 .build();
  auto p = parse_frame(ptb);
  ASSERT_TRUE(p) << p.detail();
  EXPECT_EQ(p->l3.protocol, kIpProtoIcmpv6);
  EXPECT_EQ(p->l4.icmp_type, kIcmpv6PacketTooBig);
  EXPECT_EQ(p->l4.icmp_rest, 1280u);
  std::span<const uint8_t> bytes(ptb);
  EXPECT_EQ(l4_checksum(p->l3.src, p->l3.dst, kIpProtoIcmpv6, bytes.subspan(54)), 0);
  auto q = parse_icmp_quote(bytes.first(p->l3.end), p->l4.offset + 8, IpAddress::Family::kV6);
  ASSERT_TRUE(q) << q.detail();
  EXPECT_EQ(q->src_port, 53);
  EXPECT_EQ(q->dst_port, 5353);

  auto ns = PacketBuilder()
                .eth(kClientMac, kNodeMac)
                .ipv6(ip("fe80::1"), ip("ff02::1:ff00:10"))
                .ttl(255)
                .icmpv6_neighbor_solicitation(ip("2001:db8::10"))
                .build();
  auto pn = parse_frame(ns);
  ASSERT_TRUE(pn) << pn.detail();
  EXPECT_EQ(pn->l4.icmp_type, kIcmpv6NeighborSolicitation);
  EXPECT_EQ(pn->l3.end - pn->l4.offset, 24u);
}

TEST(PacketRoundTrip, GreWithOptionalFieldsAroundIpv4) {
  auto frame = PacketBuilder()
                   .eth(kNodeMac, kClientMac)
                   .ipv4(ip("198.18.1.254"), ip("198.18.1.1"))
                   .gre()
                   .gre_checksum()
                   .gre_key(0xDEADBEEF)
                   .gre_sequence(5)
                   .ipv4(ip("198.18.0.1"), ip("198.18.100.10"))
                   .tcp(40000, 80)
                   .syn()
                   .build();
  auto outer = parse_frame(frame);
  ASSERT_TRUE(outer) << outer.detail();
  EXPECT_EQ(outer->l3.protocol, kIpProtoGre);
  std::span<const uint8_t> dgram = std::span<const uint8_t>(frame).first(outer->l3.end);
  auto gre = parse_gre(dgram, outer->l3.l4_offset);
  ASSERT_TRUE(gre) << gre.detail();
  EXPECT_TRUE(gre->header.has_checksum);
  EXPECT_EQ(gre->header.key, 0xDEADBEEFu);
  EXPECT_EQ(gre->header.sequence, 5u);
  EXPECT_EQ(gre->header.protocol, kEtherTypeIpv4);
  EXPECT_EQ(gre->payload_offset, outer->l3.l4_offset + 16);
  // RFC 2784 checksum over GRE header + payload verifies.
  EXPECT_EQ(internet_checksum(dgram.subspan(gre->offset)), 0);
  auto inner = parse_gre_inner(dgram, *gre);
  ASSERT_TRUE(inner) << inner.detail();
  EXPECT_EQ(inner->src, ip("198.18.0.1"));
  EXPECT_EQ(inner->dst, ip("198.18.100.10"));
  auto l4 = parse_l4(dgram, *inner);
  ASSERT_TRUE(l4);
  EXPECT_EQ(l4->dst_port, 80);
  EXPECT_EQ(l4->tcp_flags, kTcpSyn);
}

TEST(PacketRoundTrip, GreIpv6InnerAndGueVariant1AndIpip) {
  auto gre6 = PacketBuilder()
                  .ipv4(ip("198.18.1.254"), ip("198.18.1.1"))
                  .gre()
                  .ipv6(ip("2001:db8::1"), ip("2001:db8::2"))
                  .udp(1, 2)
                  .build();
  auto outer = parse_ipv4(gre6, 0);
  ASSERT_TRUE(outer);
  auto gre = parse_gre(gre6, outer->l4_offset);
  ASSERT_TRUE(gre);
  EXPECT_EQ(gre->header.protocol, kEtherTypeIpv6);
  auto inner = parse_gre_inner(gre6, *gre);
  ASSERT_TRUE(inner) << inner.detail();
  EXPECT_EQ(inner->family, IpAddress::Family::kV6);

  auto gue = PacketBuilder()
                 .ipv6(ip("2001:db8:1::1"), ip("2001:db8:2::1"))
                 .gue(0xC123)
                 .ipv4(ip("198.18.0.1"), ip("198.18.100.10"))
                 .tcp(1, 80)
                 .build();
  auto o6 = parse_ipv6(gue, 0);
  ASSERT_TRUE(o6);
  EXPECT_EQ(o6->protocol, kIpProtoUdp);
  auto udp = parse_l4(gue, *o6);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->src_port, 0xC123);
  EXPECT_EQ(udp->dst_port, kGueDefaultPort);
  EXPECT_EQ(udp->checksum, 0);
  EXPECT_EQ(udp->udp_length, 8 + 40);
  auto g = parse_gue(gue, udp->offset + 8);
  ASSERT_TRUE(g) << g.detail();
  EXPECT_EQ(g->header.variant, 1);
  EXPECT_EQ(g->header.protocol, kIpProtoIpip);
  auto in4 = parse_ipv4(gue, g->payload_offset);
  ASSERT_TRUE(in4);
  EXPECT_EQ(in4->dst, ip("198.18.100.10"));

  auto ipip = PacketBuilder()
                  .ipv6(ip("2001:db8:1::1"), ip("2001:db8:2::1"))
                  .ipv6(ip("2001:db8::1"), ip("2001:db8::2"))
                  .tcp(1, 2)
                  .build();
  auto o = parse_ipv6(ipip, 0);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->protocol, kIpProtoIpv6);
  auto i = parse_ipv6(ipip, o->l4_offset);
  ASSERT_TRUE(i);
  EXPECT_EQ(i->dst, ip("2001:db8::2"));
}

TEST(PacketRoundTrip, NonIpFramePassesWithoutL3) {
  auto arp = PacketBuilder()
                 .eth(kClientMac, kNodeMac)
                 .ethertype(kEtherTypeArp)
                 .payload(std::vector<uint8_t>(28, 0))
                 .build();
  auto p = parse_frame(arp);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->l2.eth.ethertype, kEtherTypeArp);
  EXPECT_FALSE(p->has_l3);
}

}  // namespace
}  // namespace rail::packet
