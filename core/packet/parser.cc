// Per-layer packet parsing (see parser.h). Each layer checks its length once, then loads fields.
#include "core/packet/parser.h"

#include <algorithm>
#include <array>
#include <new>
#include <type_traits>

namespace rail::packet {
namespace {

template <size_t N>
std::array<uint8_t, N> load_array(const uint8_t* p) {
  std::array<uint8_t, N> a;
  std::memcpy(a.data(), p, N);
  return a;
}

size_t remaining(std::span<const uint8_t> bytes, size_t offset) {
  return offset < bytes.size() ? bytes.size() - offset : 0;
}

bool is_ipv6_ext_header(uint8_t next_header) {
  return next_header == kIpProtoHopByHop || next_header == kIpProtoRouting ||
         next_header == kIpProtoFragment || next_header == kIpProtoDestOpts;
}

}  // namespace

const char* to_string(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return "ok";
    case ParseError::kMalformedL2:
      return "malformed-l2";
    case ParseError::kMalformedL3:
      return "malformed-l3";
    case ParseError::kMalformedL4:
      return "malformed-l4";
    case ParseError::kMalformedEncap:
      return "malformed-encap";
    case ParseError::kUnsupportedEncap:
      return "unsupported-encap";
    case ParseError::kMalformedIcmpQuote:
      return "malformed-icmp-quote";
  }
  return "unknown";
}

enum rail_drop_reason drop_reason(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return RAIL_DROP_NONE;
    case ParseError::kMalformedL2:
      return RAIL_DROP_MALFORMED_L2;
    case ParseError::kMalformedL3:
      return RAIL_DROP_MALFORMED_L3;
    case ParseError::kMalformedL4:
      return RAIL_DROP_MALFORMED_L4;
    case ParseError::kMalformedEncap:
      return RAIL_DROP_MALFORMED_ENCAP;
    case ParseError::kUnsupportedEncap:
      return RAIL_DROP_UNSUPPORTED_ENCAP;
    case ParseError::kMalformedIcmpQuote:
      return RAIL_DROP_ICMP_UNMATCHED;
  }
  return RAIL_DROP_NONE;
}

namespace {

// The fill_* functions construct a layer's result in place at `out` (placement new of a
// designated-initializer aggregate: every field written once, omitted ones from their default
// member initializers) and return kNone, or return the error with `detail` set, leaving `out`
// as it was. Building results in the caller's storage matters: copying a struct just written
// field by field stalls on store forwarding (it cost ~40 ns per frame), and value-initialising
// it first cost a `rep stos`.
[[gnu::always_inline]] inline ParseError fill_l2(std::span<const uint8_t> frame, L2Info& out,
                                                 const char*& detail) {
  if (frame.size() < kEthernetHeaderSize) {
    detail = "ethernet header truncated";
    return ParseError::kMalformedL2;
  }
  const uint8_t* p = frame.data();
  uint16_t ethertype = load_be16(p + 12);
  size_t l3_offset = kEthernetHeaderSize;
  bool has_vlan = false;
  uint16_t vlan_tci = 0;
  if (ethertype == kEtherTypeVlan) {
    if (frame.size() < kEthernetHeaderSize + kVlanTagSize) {
      detail = "802.1Q tag truncated";
      return ParseError::kMalformedL2;
    }
    has_vlan = true;
    vlan_tci = load_be16(p + 14);
    ethertype = load_be16(p + 16);
    l3_offset += kVlanTagSize;
  }
  ::new (static_cast<void*>(&out)) L2Info{
      .eth = {.dst = MacAddress(load_array<6>(p)),
              .src = MacAddress(load_array<6>(p + 6)),
              .has_vlan = has_vlan,
              .vlan_tci = vlan_tci,
              .ethertype = ethertype},
      .l3_offset = l3_offset,
  };
  return ParseError::kNone;
}

[[gnu::always_inline]] inline ParseError fill_ipv4(std::span<const uint8_t> bytes, size_t offset,
                                                   L3Info& out, const char*& detail) {
  const size_t avail = remaining(bytes, offset);
  if (avail < kIpv4MinHeaderSize) {
    detail = "ipv4 header truncated";
    return ParseError::kMalformedL3;
  }
  const uint8_t* p = bytes.data() + offset;
  const size_t header_length = size_t(p[0] & 0x0F) * 4;
  const uint16_t total_length = load_be16(p + 2);
  if ((p[0] >> 4) != 4) {
    detail = "ipv4 version is not 4";
  } else if (header_length < kIpv4MinHeaderSize) {
    detail = "ipv4 IHL < 5";
  } else if (total_length < header_length) {
    detail = "ipv4 total length < IHL*4";
  } else if (total_length > avail) {
    detail = "ipv4 total length > bytes present";
  } else {
    detail = nullptr;
  }
  if (detail != nullptr) return ParseError::kMalformedL3;
  const uint16_t flags_frag = load_be16(p + 6);
  ::new (static_cast<void*>(&out)) L3Info{
      .family = IpAddress::Family::kV4,
      .src = IpAddress::v4(load_array<4>(p + 12)),
      .dst = IpAddress::v4(load_array<4>(p + 16)),
      .offset = offset,
      .header_length = header_length,
      .end = offset + total_length,
      .protocol = p[9],
      .l4_offset = offset + header_length,
      .tos = p[1],
      .ttl = p[8],
      .flow_label = 0,
      .frag_id = load_be16(p + 4),
      .df = (flags_frag & kIpv4FlagDf) != 0,
      .mf = (flags_frag & kIpv4FlagMf) != 0,
      .frag_offset = static_cast<uint16_t>(flags_frag & kIpv4FragOffsetMask),
      .has_fragment_header = false,
      .ext_header_count = 0,
      .ext_walked = true,
  };
  return ParseError::kNone;
}

[[gnu::always_inline]] inline ParseError fill_ipv6(std::span<const uint8_t> bytes, size_t offset,
                                                   L3Info& out, const char*& detail) {
  const size_t avail = remaining(bytes, offset);
  if (avail < kIpv6HeaderSize) {
    detail = "ipv6 header truncated";
    return ParseError::kMalformedL3;
  }
  const uint8_t* p = bytes.data() + offset;
  const uint16_t payload_length = load_be16(p + 4);
  if ((p[0] >> 4) != 6) {
    detail = "ipv6 version is not 6";
    return ParseError::kMalformedL3;
  }
  if (kIpv6HeaderSize + payload_length > avail) {
    detail = "ipv6 payload length > bytes present";
    return ParseError::kMalformedL3;
  }
  const uint32_t first_word = load_be32(p);
  ::new (static_cast<void*>(&out)) L3Info{
      .family = IpAddress::Family::kV6,
      .src = IpAddress::v6(load_array<16>(p + 8)),
      .dst = IpAddress::v6(load_array<16>(p + 24)),
      .offset = offset,
      .header_length = kIpv6HeaderSize,
      .end = offset + kIpv6HeaderSize + payload_length,
      .protocol = p[6],
      .l4_offset = offset + kIpv6HeaderSize,
      .tos = static_cast<uint8_t>(first_word >> 20),
      .ttl = p[7],
      .flow_label = first_word & 0xFFFFF,
      .frag_id = 0,
      .df = false,
      .mf = false,
      .frag_offset = 0,
      .has_fragment_header = false,
      .ext_header_count = 0,
      .ext_walked = false,
  };
  return ParseError::kNone;
}

[[gnu::always_inline]] inline ParseError fill_l3(std::span<const uint8_t> bytes, size_t offset,
                                                 uint16_t ethertype, L3Info& l3,
                                                 const char*& detail) {
  if (ethertype == kEtherTypeIpv4) return fill_ipv4(bytes, offset, l3, detail);
  if (ethertype == kEtherTypeIpv6) return fill_ipv6(bytes, offset, l3, detail);
  detail = "ethertype is not IPv4/IPv6";
  return ParseError::kMalformedL3;
}

// Wraps a fill_* call into a ParseResult whose value the fill constructs in place. Inlined
// into each parse_* so a layer costs one call.
template <typename T, typename Fill>
[[gnu::always_inline]] inline ParseResult<T> fill_result(Fill&& fill) {
  ParseResult<T> result{typename ParseResult<T>::Unfilled{}};
  const char* detail = "";
  // One return of one named object, so the result is constructed in the caller (NRVO).
  if (ParseError e = fill(*result, detail); e != ParseError::kNone) {
    result = ParseResult<T>(e, detail);
  }
  return result;
}

}  // namespace

ParseResult<L2Info> parse_l2(std::span<const uint8_t> frame) {
  return fill_result<L2Info>([&](L2Info& l2, const char*& d) { return fill_l2(frame, l2, d); });
}
ParseResult<L3Info> parse_ipv4(std::span<const uint8_t> bytes, size_t offset) {
  return fill_result<L3Info>(
      [&](L3Info& l3, const char*& d) { return fill_ipv4(bytes, offset, l3, d); });
}
ParseResult<L3Info> parse_ipv6(std::span<const uint8_t> bytes, size_t offset) {
  return fill_result<L3Info>(
      [&](L3Info& l3, const char*& d) { return fill_ipv6(bytes, offset, l3, d); });
}
ParseResult<L3Info> parse_l3(std::span<const uint8_t> bytes, size_t offset, uint16_t ethertype) {
  return fill_result<L3Info>(
      [&](L3Info& l3, const char*& d) { return fill_l3(bytes, offset, ethertype, l3, d); });
}

ParseError parse_ipv6_ext(std::span<const uint8_t> bytes, L3Info& l3) {
  if (l3.ext_walked) return ParseError::kNone;
  // Only the datagram counts: Ethernet padding after it is not an extension header.
  Cursor cur(bytes.first(std::min(l3.end, bytes.size())), l3.l4_offset);
  uint8_t next = l3.protocol;
  uint8_t count = 0;
  while (is_ipv6_ext_header(next)) {
    if (count == kIpv6MaxExtHeaders) return ParseError::kMalformedL3;
    ++count;
    if (next == kIpProtoFragment) {
      // RFC 8200 §4.5: next header, reserved, offset(13) | res(2) | M, identification.
      auto nh = cur.u8();
      auto reserved = cur.u8();
      auto off_m = cur.u16();
      auto id = cur.u32();
      if (!nh || !reserved || !off_m || !id) return ParseError::kMalformedL3;
      l3.has_fragment_header = true;
      l3.frag_offset = *off_m >> 3;
      l3.mf = (*off_m & 1) != 0;
      l3.frag_id = *id;
      next = *nh;
      if (l3.frag_offset != 0) break;  // a later fragment: the rest is mid-datagram data
    } else {
      // Hop-by-hop, routing, destination options: length in 8-byte units, not counting the
      // first 8 (RFC 8200 §4.3-4.6).
      auto nh = cur.peek_u8(0);
      auto len = cur.peek_u8(1);
      if (!nh || !len || !cur.skip((size_t(*len) + 1) * 8)) return ParseError::kMalformedL3;
      next = *nh;
    }
  }
  l3.protocol = next;
  l3.l4_offset = cur.offset();
  l3.ext_header_count = count;
  l3.ext_walked = true;
  return ParseError::kNone;
}

namespace {

[[gnu::always_inline]] inline ParseError fill_l4(std::span<const uint8_t> bytes, const L3Info& l3,
                                                 L4Info& out, const char*& detail) {
  const size_t offset = l3.l4_offset;
  const size_t end = std::min(l3.end, bytes.size());
  const size_t avail = offset < end ? end - offset : 0;
  const uint8_t* p = avail ? bytes.data() + offset : bytes.data();  // never past the end
  void* const at = static_cast<void*>(&out);
  switch (l3.protocol) {
    case kIpProtoTcp:
      if (avail < kTcpMinHeaderSize) {
        detail = "tcp header truncated";
        return ParseError::kMalformedL4;
      }
      ::new (at) L4Info{
          .protocol = l3.protocol,
          .offset = offset,
          .header_length = size_t(p[12] >> 4) * 4,
          .has_ports = true,
          .src_port = load_be16(p),
          .dst_port = load_be16(p + 2),
          .tcp_flags = p[13],
          .tcp_seq = load_be32(p + 4),
          .tcp_ack = load_be32(p + 8),
          .checksum = load_be16(p + 16),
      };
      break;
    case kIpProtoUdp:
      if (avail < kUdpHeaderSize) {
        detail = "udp header truncated";
        return ParseError::kMalformedL4;
      }
      ::new (at) L4Info{
          .protocol = l3.protocol,
          .offset = offset,
          .header_length = kUdpHeaderSize,
          .has_ports = true,
          .src_port = load_be16(p),
          .dst_port = load_be16(p + 2),
          .udp_length = load_be16(p + 4),
          .checksum = load_be16(p + 6),
      };
      break;
    case kIpProtoIcmp:
    case kIpProtoIcmpv6:
      if (avail < kIcmpHeaderSize) {
        detail = "icmp header truncated";
        return ParseError::kMalformedL4;
      }
      ::new (at) L4Info{
          .protocol = l3.protocol,
          .offset = offset,
          .header_length = kIcmpHeaderSize,
          .is_icmp = true,
          .icmp_type = p[0],
          .icmp_code = p[1],
          .icmp_rest = load_be32(p + 4),
          .checksum = load_be16(p + 2),
      };
      break;
    default:
      ::new (at) L4Info{.protocol = l3.protocol, .offset = offset};
      break;
  }
  return ParseError::kNone;
}

}  // namespace

ParseResult<L4Info> parse_l4(std::span<const uint8_t> bytes, const L3Info& l3) {
  return fill_result<L4Info>([&](L4Info& l4, const char*& d) { return fill_l4(bytes, l3, l4, d); });
}

ParseResult<GreInfo> parse_gre(std::span<const uint8_t> bytes, size_t offset) {
  Cursor cur(bytes, offset);
  auto flags = cur.u16();
  auto protocol = cur.u16();
  if (!flags || !protocol) return {ParseError::kMalformedEncap, "gre header truncated"};
  GreInfo gre;
  gre.offset = offset;
  GreHeader& h = gre.header;
  h.has_checksum = (*flags & kGreChecksumBit) != 0;
  h.has_routing = (*flags & kGreRoutingBit) != 0;
  h.has_key = (*flags & kGreKeyBit) != 0;
  h.has_sequence = (*flags & kGreSequenceBit) != 0;
  h.version = static_cast<uint8_t>(*flags & kGreVersionMask);
  h.protocol = *protocol;
  if (h.version != 0) return {ParseError::kUnsupportedEncap, "gre version is not 0"};
  if (h.has_routing) return {ParseError::kUnsupportedEncap, "gre routing bit set (RFC 1701)"};
  // Optional fields in wire order: checksum + reserved1, key, sequence (RFC 2890 §2).
  if (h.has_checksum) {
    auto csum = cur.u16();
    if (!csum || !cur.skip(2)) return {ParseError::kMalformedEncap, "gre checksum truncated"};
    h.checksum = *csum;
  }
  if (h.has_key) {
    auto key = cur.u32();
    if (!key) return {ParseError::kMalformedEncap, "gre key truncated"};
    h.key = *key;
  }
  if (h.has_sequence) {
    auto seq = cur.u32();
    if (!seq) return {ParseError::kMalformedEncap, "gre sequence truncated"};
    h.sequence = *seq;
  }
  gre.payload_offset = cur.offset();
  return gre;
}

ParseResult<L3Info> parse_gre_inner(std::span<const uint8_t> bytes, const GreInfo& gre) {
  const uint16_t protocol = gre.header.protocol;
  if (protocol != kEtherTypeIpv4 && protocol != kEtherTypeIpv6) {
    return {ParseError::kUnsupportedEncap, "gre payload is not IPv4/IPv6"};
  }
  return parse_l3(bytes, gre.payload_offset, protocol);
}

ParseResult<GueInfo> parse_gue(std::span<const uint8_t> bytes, size_t offset) {
  Cursor cur(bytes, offset);
  auto first = cur.peek_u8(0);
  if (!first) return {ParseError::kMalformedEncap, "gue payload empty"};
  GueInfo gue;
  gue.offset = offset;
  const uint8_t variant = *first >> 6;
  if (variant == 1) {
    // Variant 1: the two top bits 01 are the start of an IPv4 (0100) or IPv6 (0110) version.
    gue.header.variant = 1;
    const uint8_t version = *first >> 4;
    if (version != 4 && version != 6) {
      return {ParseError::kUnsupportedEncap, "gue variant 1 payload is not IPv4/IPv6"};
    }
    gue.header.protocol = version == 4 ? kIpProtoIpip : kIpProtoIpv6;
    gue.payload_offset = offset;
    return gue;
  }
  if (variant != 0) return {ParseError::kUnsupportedEncap, "gue variant is not 0 or 1"};
  auto word0 = cur.u16();
  auto flags = cur.u16();
  if (!word0 || !flags) return {ParseError::kMalformedEncap, "gue header truncated"};
  gue.header.control = (*word0 & 0x2000) != 0;
  gue.header.hlen = static_cast<uint8_t>((*word0 >> 8) & 0x1F);
  gue.header.protocol = static_cast<uint8_t>(*word0);
  gue.header.flags = *flags;
  if (!cur.skip(size_t(gue.header.hlen) * 4)) {
    return {ParseError::kMalformedEncap, "gue extension fields truncated"};
  }
  gue.payload_offset = cur.offset();
  return gue;
}

ParseResult<IcmpQuote> parse_icmp_quote(std::span<const uint8_t> bytes, size_t offset,
                                        IpAddress::Family family) {
  const size_t avail = remaining(bytes, offset);
  IcmpQuote quote;
  quote.family = family;
  quote.l3_offset = offset;
  const uint8_t* p = avail ? bytes.data() + offset : bytes.data();  // never past the end
  size_t header_length;
  if (family == IpAddress::Family::kV4) {
    if (avail < kIpv4MinHeaderSize) {
      return {ParseError::kMalformedIcmpQuote, "quoted ipv4 header truncated"};
    }
    if ((p[0] >> 4) != 4) return {ParseError::kMalformedIcmpQuote, "quoted version is not 4"};
    header_length = size_t(p[0] & 0x0F) * 4;
    if (header_length < kIpv4MinHeaderSize) {
      return {ParseError::kMalformedIcmpQuote, "quoted ipv4 IHL < 5"};
    }
    quote.protocol = p[9];
    quote.src = IpAddress::v4(load_array<4>(p + 12));
    quote.dst = IpAddress::v4(load_array<4>(p + 16));
  } else {
    if (avail < kIpv6HeaderSize) {
      return {ParseError::kMalformedIcmpQuote, "quoted ipv6 header truncated"};
    }
    if ((p[0] >> 4) != 6) return {ParseError::kMalformedIcmpQuote, "quoted version is not 6"};
    header_length = kIpv6HeaderSize;
    quote.protocol = p[6];
    quote.src = IpAddress::v6(load_array<16>(p + 8));
    quote.dst = IpAddress::v6(load_array<16>(p + 24));
  }
  if (avail < header_length + 8) {
    return {ParseError::kMalformedIcmpQuote, "quoted L4 header (8 bytes) truncated"};
  }
  quote.l4_offset = offset + header_length;
  quote.src_port = load_be16(p + header_length);
  quote.dst_port = load_be16(p + header_length + 2);
  return quote;
}

ParseResult<ParsedFrame> parse_frame(std::span<const uint8_t> frame) {
  // Starts from ParsedFrame{}: layers that are not parsed keep their defaults.
  ParseResult<ParsedFrame> result;
  const char* detail = "";
  const auto fill = [&](ParsedFrame& out) {
    if (ParseError e = fill_l2(frame, out.l2, detail); e != ParseError::kNone) return e;
    const uint16_t ethertype = out.l2.eth.ethertype;
    if (ethertype != kEtherTypeIpv4 && ethertype != kEtherTypeIpv6) return ParseError::kNone;
    if (ParseError e = fill_l3(frame, out.l2.l3_offset, ethertype, out.l3, detail);
        e != ParseError::kNone) {
      return e;
    }
    out.has_l3 = true;
    if (ParseError e = parse_ipv6_ext(frame, out.l3); e != ParseError::kNone) {
      detail = "ipv6 extension headers: more than 4 or truncated";
      return e;
    }
    if (out.l3.is_later_fragment()) return ParseError::kNone;
    if (ParseError e = fill_l4(frame, out.l3, out.l4, detail); e != ParseError::kNone) return e;
    out.has_l4 = true;
    return ParseError::kNone;
  };
  if (ParseError e = fill(*result); e != ParseError::kNone)
    result = ParseResult<ParsedFrame>(e, detail);
  return result;
}

}  // namespace rail::packet
