// Parser tests: the malformed-packet rules of docs/packet-path.md §2, Cursor bounds, and every
// truncation of every kind of valid frame (copied into exact-size buffers so ASan sees overreads).
#include "core/packet/parser.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "core/packet/builder.h"

namespace rail::packet {
namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a) << text;
  return a ? *a : IpAddress();
}

const MacAddress kMacA(std::array<uint8_t, 6>{2, 0, 0, 0, 0, 1});
const MacAddress kMacB(std::array<uint8_t, 6>{2, 0, 0, 0, 0, 2});

PacketBuilder v4_frame() {
  PacketBuilder b;
  b.eth(kMacA, kMacB).ipv4(ip("198.18.0.1"), ip("198.18.100.10"));
  return b;
}
PacketBuilder v6_frame() {
  PacketBuilder b;
  b.eth(kMacA, kMacB).ipv6(ip("2001:db8::1"), ip("2001:db8::2"));
  return b;
}

ParseError frame_error(const std::vector<uint8_t>& frame) {
  return parse_frame(frame).error();
}

TEST(PacketParser, CursorReadsFailCleanlyWithoutMoving) {
  const uint8_t bytes[] = {0x12, 0x34, 0x56};
  Cursor cur(bytes);
  EXPECT_FALSE(cur.u32());
  EXPECT_EQ(cur.offset(), 0u);
  EXPECT_EQ(cur.u16(), 0x1234);
  EXPECT_FALSE(cur.u16());
  EXPECT_EQ(cur.offset(), 2u);
  EXPECT_EQ(cur.peek_u8(), 0x56);
  EXPECT_FALSE(cur.peek_u8(1));
  EXPECT_FALSE(cur.skip(2));
  EXPECT_EQ(cur.u8(), 0x56);
  EXPECT_EQ(cur.remaining(), 0u);
  EXPECT_FALSE(cur.u8());
  Cursor past(bytes, 10);  // an offset past the end is allowed and reads nothing
  EXPECT_EQ(past.remaining(), 0u);
  EXPECT_FALSE(past.bytes(0 + 1));
}

TEST(PacketParser, DropReasonMapping) {
  EXPECT_EQ(drop_reason(ParseError::kNone), RAIL_DROP_NONE);
  EXPECT_EQ(drop_reason(ParseError::kMalformedL2), RAIL_DROP_MALFORMED_L2);
  EXPECT_EQ(drop_reason(ParseError::kMalformedL3), RAIL_DROP_MALFORMED_L3);
  EXPECT_EQ(drop_reason(ParseError::kMalformedL4), RAIL_DROP_MALFORMED_L4);
  EXPECT_EQ(drop_reason(ParseError::kMalformedEncap), RAIL_DROP_MALFORMED_ENCAP);
  EXPECT_EQ(drop_reason(ParseError::kUnsupportedEncap), RAIL_DROP_UNSUPPORTED_ENCAP);
  EXPECT_EQ(drop_reason(ParseError::kMalformedIcmpQuote), RAIL_DROP_ICMP_UNMATCHED);
  auto r = parse_l2(std::vector<uint8_t>(13, 0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.to_error().code, ErrorCode::kMalformed);
  EXPECT_NE(r.to_error().message.find("malformed-l2"), std::string::npos);
}

TEST(PacketParser, MalformedL2) {
  EXPECT_EQ(frame_error(std::vector<uint8_t>(13, 0)), ParseError::kMalformedL2);
  auto tagged = v4_frame().vlan(5).tcp(1, 2).build();
  tagged.resize(17);  // tag present, inner ethertype cut
  EXPECT_EQ(frame_error(tagged), ParseError::kMalformedL2);
}

TEST(PacketParser, MalformedIpv4) {
  EXPECT_EQ(frame_error(v4_frame().ihl(4).tcp(1, 2).build()), ParseError::kMalformedL3);
  EXPECT_EQ(frame_error(v4_frame().ip_version(6).tcp(1, 2).build()), ParseError::kMalformedL3);
  // Total length larger than the bytes present, and smaller than the header.
  EXPECT_EQ(frame_error(v4_frame().ip_length(41).tcp(1, 2).build()), ParseError::kMalformedL3);
  EXPECT_EQ(frame_error(v4_frame().ip_length(19).tcp(1, 2).build()), ParseError::kMalformedL3);
  // IHL 15 (60 bytes) > total length 40.
  EXPECT_EQ(frame_error(v4_frame().ihl(15).tcp(1, 2).build()), ParseError::kMalformedL3);
  // A shorter total length than the bytes is fine: the rest is Ethernet padding.
  auto padded = v4_frame().ip_length(40).tcp(1, 2).payload("xyz").build();
  auto p = parse_frame(padded);
  ASSERT_TRUE(p) << p.detail();
  EXPECT_EQ(p->l3.end, 14u + 40);
}

TEST(PacketParser, MalformedIpv6) {
  EXPECT_EQ(frame_error(v6_frame().ip_version(4).tcp(1, 2).build()), ParseError::kMalformedL3);
  EXPECT_EQ(frame_error(v6_frame().ip_length(21).tcp(1, 2).build()), ParseError::kMalformedL3);
  auto short_hdr = v6_frame().tcp(1, 2).build();
  short_hdr.resize(14 + 39);
  EXPECT_EQ(frame_error(short_hdr), ParseError::kMalformedL3);
}

TEST(PacketParser, Ipv6ExtensionHeaderLimits) {
  auto four = v6_frame().hop_by_hop().dest_options().routing_header().dest_options().tcp(1, 2);
  EXPECT_EQ(frame_error(four.build()), ParseError::kNone);
  auto five = v6_frame()
                  .hop_by_hop()
                  .dest_options()
                  .routing_header()
                  .fragment_header(0, false, 1)
                  .dest_options()
                  .tcp(1, 2)
                  .build();
  EXPECT_EQ(frame_error(five), ParseError::kMalformedL3);
  // An ext header cut by the payload length (not by the frame): still malformed L3.
  auto cut = v6_frame().hop_by_hop().ip_length(4).tcp(1, 2).build();
  EXPECT_EQ(frame_error(cut), ParseError::kMalformedL3);
  // The forwarder's order: L3 first (protocol = first next header), ext walk later.
  auto frame = v6_frame().hop_by_hop().udp(1, 2).build();
  auto l3 = parse_l3(frame, 14, kEtherTypeIpv6);
  ASSERT_TRUE(l3);
  EXPECT_EQ(l3->protocol, kIpProtoHopByHop);
  EXPECT_FALSE(l3->ext_walked);
  EXPECT_EQ(parse_ipv6_ext(frame, *l3), ParseError::kNone);
  EXPECT_EQ(l3->protocol, kIpProtoUdp);
  EXPECT_EQ(l3->l4_offset, 14u + 48);
}

TEST(PacketParser, TruncatedL4) {
  std::vector<uint8_t> ten(10, 0);
  EXPECT_EQ(frame_error(v4_frame().protocol(kIpProtoTcp).payload(ten).build()),
            ParseError::kMalformedL4);
  EXPECT_EQ(
      frame_error(v6_frame().protocol(kIpProtoUdp).payload(std::vector<uint8_t>(7, 0)).build()),
      ParseError::kMalformedL4);
  EXPECT_EQ(
      frame_error(v4_frame().protocol(kIpProtoIcmp).payload(std::vector<uint8_t>(7, 0)).build()),
      ParseError::kMalformedL4);
  // L4 bytes in the Ethernet padding do not count.
  auto tcp_in_padding = v4_frame().ip_length(20).tcp(1, 2).build();
  EXPECT_EQ(frame_error(tcp_in_padding), ParseError::kMalformedL4);
  // Unknown protocols carry no L4 header to check.
  EXPECT_EQ(frame_error(v4_frame().protocol(132).build()), ParseError::kNone);
}

TEST(PacketParser, GreRules) {
  auto parse_outer_gre = [](const std::vector<uint8_t>& frame) {
    auto l3 = parse_ipv4(frame, 14);
    EXPECT_TRUE(l3);
    return parse_gre(std::span<const uint8_t>(frame).first(l3->end), l3->l4_offset);
  };
  auto base = [] {
    PacketBuilder b = v4_frame();
    b.gre();
    return b;
  };
  EXPECT_EQ(
      parse_outer_gre(base().gre_routing_bit().ipv4(ip("1.1.1.1"), ip("2.2.2.2")).build()).error(),
      ParseError::kUnsupportedEncap);
  EXPECT_EQ(
      parse_outer_gre(base().gre_version(1).ipv4(ip("1.1.1.1"), ip("2.2.2.2")).build()).error(),
      ParseError::kUnsupportedEncap);
  // Key announced but only 2 of its 4 bytes inside the datagram.
  auto cut = base().gre_key(7).build();
  cut.resize(cut.size() - 2);
  cut[14 + 3] = static_cast<uint8_t>(cut.size() - 14);  // total length matches the cut
  EXPECT_EQ(parse_outer_gre(cut).error(), ParseError::kMalformedEncap);
  // Non-IP payload: the GRE header parses, the inner packet is unsupported.
  auto teb = base().gre_protocol(0x6558).payload(std::vector<uint8_t>(20, 0)).build();
  auto gre = parse_outer_gre(teb);
  ASSERT_TRUE(gre);
  EXPECT_EQ(parse_gre_inner(teb, *gre).error(), ParseError::kUnsupportedEncap);
  // Malformed inner IP is malformed L3, as if it had arrived plain.
  auto bad_inner = base().ipv4(ip("1.1.1.1"), ip("2.2.2.2")).ihl(3).build();
  auto g2 = parse_outer_gre(bad_inner);
  ASSERT_TRUE(g2);
  EXPECT_EQ(parse_gre_inner(bad_inner, *g2).error(), ParseError::kMalformedL3);
}

TEST(PacketParser, GueVariants) {
  // Variant 0: ver 00, C 0, hlen 1, proto 6, flags 0, one extension word, then payload.
  const uint8_t v0[] = {0x01, 0x06, 0x00, 0x00, 0xAA, 0xBB, 0xCC, 0xDD, 0x99};
  auto g = parse_gue(v0, 0);
  ASSERT_TRUE(g) << g.detail();
  EXPECT_EQ(g->header.variant, 0);
  EXPECT_EQ(g->header.hlen, 1);
  EXPECT_EQ(g->header.protocol, kIpProtoTcp);
  EXPECT_EQ(g->payload_offset, 8u);
  EXPECT_EQ(parse_gue(std::span<const uint8_t>(v0).first(7), 0).error(),
            ParseError::kMalformedEncap);
  const uint8_t v2[] = {0x80, 0, 0, 0};
  EXPECT_EQ(parse_gue(v2, 0).error(), ParseError::kUnsupportedEncap);
  const uint8_t v1_bad_nibble[] = {0x50, 0, 0, 0};
  EXPECT_EQ(parse_gue(v1_bad_nibble, 0).error(), ParseError::kUnsupportedEncap);
  EXPECT_EQ(parse_gue({}, 0).error(), ParseError::kMalformedEncap);
}

TEST(PacketParser, IcmpQuoteNeedsHeaderPlusEightBytes) {
  auto quoted6 = PacketBuilder().ipv6(ip("2001:db8::2"), ip("2001:db8::1")).udp(53, 99).build();
  EXPECT_TRUE(
      parse_icmp_quote(std::span<const uint8_t>(quoted6).first(48), 0, IpAddress::Family::kV6));
  EXPECT_EQ(parse_icmp_quote(std::span<const uint8_t>(quoted6).first(47), 0, IpAddress::Family::kV6)
                .error(),
            ParseError::kMalformedIcmpQuote);
  EXPECT_EQ(parse_icmp_quote(quoted6, 0, IpAddress::Family::kV4).error(),
            ParseError::kMalformedIcmpQuote);  // version 6 where 4 is expected
  auto quoted4 =
      PacketBuilder().ipv4(ip("198.18.100.10"), ip("198.18.0.1")).ihl(4).tcp(80, 1).build();
  EXPECT_EQ(parse_icmp_quote(quoted4, 0, IpAddress::Family::kV4).error(),
            ParseError::kMalformedIcmpQuote);
}

// Every prefix of a valid frame: either rejected, or parsed with every offset inside the
// prefix. For frames without padding, any cut inside the IP datagram must be rejected with the
// error of the layer that was cut.
void check_all_truncations(const std::vector<uint8_t>& frame, const std::string& name) {
  auto full = parse_frame(frame);
  ASSERT_TRUE(full) << name << ": " << full.detail();
  for (size_t len = 0; len < frame.size(); ++len) {
    std::vector<uint8_t> prefix(frame.begin(), frame.begin() + len);  // exact size for ASan
    auto p = parse_frame(prefix);
    if (len < full->l2.l3_offset) {
      EXPECT_EQ(p.error(), ParseError::kMalformedL2) << name << " len " << len;
    } else if (full->has_l3 && len < full->l3.end) {
      EXPECT_EQ(p.error(), ParseError::kMalformedL3) << name << " len " << len;
    }
    if (p) {
      EXPECT_LE(p->l2.l3_offset, len);
      if (p->has_l3) {
        EXPECT_LE(p->l3.end, len);
        EXPECT_LE(p->l3.l4_offset, p->l3.end);
      }
      if (p->has_l4 && (p->l4.has_ports || p->l4.is_icmp)) {
        const size_t fixed = p->l4.protocol == kIpProtoTcp ? kTcpMinHeaderSize : 8;
        EXPECT_LE(p->l4.offset + fixed, p->l3.end);
      }
    }
    // The encapsulation and quote parsers on the same bytes must also stay in bounds.
    for (size_t off : {size_t(14), size_t(34), size_t(54), size_t(62)}) {
      if (auto g = parse_gre(prefix, off)) {
        EXPECT_LE(g->payload_offset, len);
        (void)parse_gre_inner(prefix, *g);
      }
      if (auto g = parse_gue(prefix, off)) {
        EXPECT_LE(g->payload_offset, len);
      }
      for (auto fam : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
        if (auto q = parse_icmp_quote(prefix, off, fam)) {
          EXPECT_LE(q->l4_offset + 8, len);
        }
      }
    }
  }
}

TEST(PacketParser, EveryTruncationOfEveryKindIsCleanlyRejected) {
  const std::vector<uint8_t> inner_quote = [] {
    auto q = PacketBuilder().ipv4(ip("198.18.100.10"), ip("198.18.0.1")).tcp(80, 40000).build();
    q.resize(28);
    return q;
  }();
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> frames = {
      {"v4 tcp", v4_frame().tcp(1, 80).syn().payload("data").build()},
      {"vlan v4 udp", v4_frame().vlan(100).udp(1, 53).payload("q").build()},
      {"v4 options", v4_frame().ipv4_options(std::vector<uint8_t>{1, 1, 1, 0}).tcp(1, 2).build()},
      {"v4 icmp echo", v4_frame().icmp_echo_request(1, 2).payload("ping").build()},
      {"v4 icmp frag needed", v4_frame().icmp_frag_needed(1400).payload(inner_quote).build()},
      {"v4 later fragment", v4_frame().frag_offset(3).protocol(6).payload("abc").build()},
      {"v6 tcp", v6_frame().tcp(1, 443).ack().build()},
      {"v6 ext",
       v6_frame().hop_by_hop().fragment_header(0, true, 5).dest_options().udp(1, 2).build()},
      {"v6 icmpv6 echo", v6_frame().icmpv6_echo_request(3, 4).build()},
      {"v6 ns", v6_frame().icmpv6_neighbor_solicitation(ip("2001:db8::2")).build()},
      {"v4 gre v4", v4_frame()
                        .gre()
                        .gre_checksum()
                        .gre_key(1)
                        .gre_sequence(2)
                        .ipv4(ip("1.1.1.1"), ip("2.2.2.2"))
                        .tcp(1, 2)
                        .build()},
      {"v4 gre v6", v4_frame().gre().ipv6(ip("2001:db8::1"), ip("2001:db8::2")).udp(1, 2).build()},
      {"v6 gue v4", v6_frame().gue(0xC000).ipv4(ip("1.1.1.1"), ip("2.2.2.2")).tcp(1, 2).build()},
      {"v4 ipip", v4_frame().ipv4(ip("1.1.1.1"), ip("2.2.2.2")).udp(1, 2).build()},
      {"arp", PacketBuilder().eth(kMacA, kMacB).ethertype(kEtherTypeArp).payload("arp?").build()},
  };
  for (const auto& [name, frame] : frames) check_all_truncations(frame, name);
}

}  // namespace
}  // namespace rail::packet
