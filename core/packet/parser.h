// Bounds-checked packet parsing: a byte Cursor, per-layer parse functions and parse_frame().
//
// Every function takes the bytes as a span that ENDS where valid data ends (the frame, or an
// enclosing IP datagram's end) plus an offset into it; nothing reads outside the span, for any
// input. Layers are separate so the forwarder can follow docs/packet-path.md §2 step by step:
// parse_l2 -> parse_l3 -> (GRE: parse_gre + parse_gre_inner) -> VIP check -> parse_ipv6_ext ->
// parse_l4. Errors name the malformed layer (ParseError), which maps 1:1 onto
// enum rail_drop_reason via drop_reason(). All offsets are from the start of the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>

#include "abi/rail_abi.h"
#include "core/net/address.h"
#include "core/packet/headers.h"
#include "core/result.h"

namespace rail::packet {

// Which layer did not parse. Cheap to return on the per-packet path (no allocation).
enum class ParseError : uint8_t {
  kNone = 0,
  kMalformedL2,         // truncated Ethernet / 802.1Q header
  kMalformedL3,         // IPv4/IPv6 header rules of packet-path.md §2.2, or §2.5 ext headers
  kMalformedL4,         // TCP (20) / UDP (8) / ICMP (8) fixed header truncated
  kMalformedEncap,      // GRE / GUE header truncated
  kUnsupportedEncap,    // GRE version != 0, routing bit, non-IP payload; GUE variant >= 2
  kMalformedIcmpQuote,  // an ICMP error's quoted IP header + 8 bytes are not all there
};

const char* to_string(ParseError error);
// The drop reason the forwarder counts for `error` (RAIL_DROP_NONE for kNone;
// kMalformedIcmpQuote -> RAIL_DROP_ICMP_UNMATCHED, packet-path.md §5).
enum rail_drop_reason drop_reason(ParseError error);

// "Value or reason", like Result<T>, but without a heap-allocated message: the reason is a
// ParseError plus a static string naming the rule that failed. to_error() converts to the
// project-wide Error for callers off the hot path.
template <typename T>
class [[nodiscard]] ParseResult {
  // The value lives in a union so the parser can construct it in place exactly once (see
  // Unfilled); copying stays a plain byte copy.
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  ParseResult() : value_() {}                         // success holding T{}
  ParseResult(T value) : value_(std::move(value)) {}  // NOLINT: implicit, like Result
  ParseResult(ParseError error, const char* detail) : value_(), error_(error), detail_(detail) {}
  // Success whose value is NOT constructed yet: the creator must construct it (placement new
  // at &**this) before anything reads it. The parser uses this to build each layer result
  // once, in the caller's storage: value-initialising ~110 bytes first and then writing the
  // fields cost a `rep stos` and, when the result was read back, failed store forwarding.
  struct Unfilled {};
  explicit ParseResult(Unfilled) {}

  bool has_value() const { return error_ == ParseError::kNone; }
  explicit operator bool() const { return has_value(); }
  const T& value() const& { return value_; }
  T& value() & { return value_; }
  const T& operator*() const& { return value_; }
  T& operator*() & { return value_; }
  const T* operator->() const { return &value_; }
  T* operator->() { return &value_; }
  ParseError error() const { return error_; }
  const char* detail() const { return detail_; }  // "" on success
  Error to_error() const {
    return make_error(ErrorCode::kMalformed, std::string(to_string(error_)) + ": " + detail_);
  }

 private:
  union {
    T value_;
  };
  ParseError error_ = ParseError::kNone;
  const char* detail_ = "";
};

// Big-endian loads from memory the caller has already bounds-checked.
inline uint16_t load_be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t load_be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

// A read position in a byte span. Every read checks that its bytes are present: on success it
// returns the value and advances; on failure it returns std::nullopt/false and does not move.
// An offset past the end is allowed (remaining() is then 0 and every read fails).
class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> bytes, size_t offset = 0)
      : bytes_(bytes), offset_(offset) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return offset_ < bytes_.size() ? bytes_.size() - offset_ : 0; }
  bool has(size_t n) const { return remaining() >= n; }

  // One byte.
  std::optional<uint8_t> u8() {
    if (!has(1)) return std::nullopt;
    return bytes_[offset_++];
  }
  // A big-endian 16-bit value, returned in host order.
  std::optional<uint16_t> u16() {
    if (!has(2)) return std::nullopt;
    uint16_t v = load_be16(bytes_.data() + offset_);
    offset_ += 2;
    return v;
  }
  // A big-endian 32-bit value, returned in host order.
  std::optional<uint32_t> u32() {
    if (!has(4)) return std::nullopt;
    uint32_t v = load_be32(bytes_.data() + offset_);
    offset_ += 4;
    return v;
  }
  // A view of the next n bytes (valid as long as the underlying buffer).
  std::optional<std::span<const uint8_t>> bytes(size_t n) {
    if (!has(n)) return std::nullopt;
    auto view = bytes_.subspan(offset_, n);
    offset_ += n;
    return view;
  }
  // Skips n bytes; false (and no move) if fewer remain.
  bool skip(size_t n) {
    if (!has(n)) return false;
    offset_ += n;
    return true;
  }
  // The byte `ahead` bytes past the position, without moving.
  std::optional<uint8_t> peek_u8(size_t ahead = 0) const {
    if (!has(ahead + 1)) return std::nullopt;
    return bytes_[offset_ + ahead];
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t offset_;
};

// --- Layer results ---

struct L2Info {
  EthernetHeader eth;
  size_t l3_offset = 0;  // 14, or 18 with an 802.1Q tag
};

struct L3Info {
  IpAddress::Family family = IpAddress::Family::kV4;
  IpAddress src;
  IpAddress dst;
  size_t offset = 0;         // of the IP header
  size_t header_length = 0;  // IPv4: IHL*4; IPv6: 40 (the fixed header only)
  size_t end = 0;            // first byte after the IP datagram (padding starts here)
  // IPv4: the protocol field. IPv6: the fixed header's next header until parse_ipv6_ext()
  // has walked the extension headers, the upper-layer protocol afterwards.
  uint8_t protocol = 0;
  size_t l4_offset = 0;     // offset + header_length; after parse_ipv6_ext: past the ext headers
  uint8_t tos = 0;          // IPv4 TOS / IPv6 traffic class
  uint8_t ttl = 0;          // TTL / hop limit
  uint32_t flow_label = 0;  // IPv6 only
  // Fragmentation. IPv4 from the header; IPv6 from the fragment header (after the ext walk).
  uint32_t frag_id = 0;              // IPv4 identification (16 bits) / IPv6 fragment header id
  bool df = false;                   // IPv4 only
  bool mf = false;                   // more fragments (IPv4 MF / IPv6 M)
  uint16_t frag_offset = 0;          // in units of 8 bytes
  bool has_fragment_header = false;  // IPv6
  uint8_t ext_header_count = 0;      // IPv6, after parse_ipv6_ext
  bool ext_walked = false;           // IPv4: always true; IPv6: after parse_ipv6_ext

  size_t length() const { return end - offset; }
  // packet-path.md §4: IPv4 MF or offset != 0; IPv6 any fragment header.
  bool is_fragment() const { return mf || frag_offset != 0 || has_fragment_header; }
  // A fragment without the L4 header: its bytes at l4_offset are mid-datagram data.
  bool is_later_fragment() const { return frag_offset != 0; }
};

struct L4Info {
  uint8_t protocol = 0;
  size_t offset = 0;
  size_t header_length = 0;  // TCP: data offset * 4 as declared; UDP/ICMP: 8; other: 0
  bool has_ports = false;    // TCP and UDP
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t tcp_flags = 0;
  uint32_t tcp_seq = 0;
  uint32_t tcp_ack = 0;
  uint16_t udp_length = 0;
  bool is_icmp = false;  // ICMP (1) or ICMPv6 (58)
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  uint32_t icmp_rest = 0;  // the 4 type-specific bytes (echo id/seq, MTU...)
  uint16_t checksum = 0;   // TCP/UDP/ICMP checksum field as received
};

struct GreInfo {
  GreHeader header;
  size_t offset = 0;          // of the GRE header
  size_t payload_offset = 0;  // first byte of the encapsulated packet
};

struct GueInfo {
  GueHeader header;
  size_t offset = 0;          // of the UDP payload (the GUE header, or the IP header for v1)
  size_t payload_offset = 0;  // first byte of the encapsulated packet
};

// The IP header quoted in an ICMP error (RFC 792 / RFC 4443 §3) plus the first 8 bytes of L4.
struct IcmpQuote {
  IpAddress::Family family = IpAddress::Family::kV4;
  IpAddress src;
  IpAddress dst;
  uint8_t protocol = 0;   // IPv4 protocol / IPv6 next header of the fixed header
  size_t l3_offset = 0;   // of the quoted IP header
  size_t l4_offset = 0;   // of the quoted L4 header (8 bytes present)
  uint16_t src_port = 0;  // first two 16-bit words of the quoted L4 header
  uint16_t dst_port = 0;
};

struct ParsedFrame {
  L2Info l2;
  bool has_l3 = false;  // false: ethertype is not IPv4/IPv6 (the forwarder PASSes it)
  L3Info l3;            // IPv6 extension headers already walked
  bool has_l4 = false;  // false for later fragments (no L4 header in them)
  L4Info l4;
};

// Ethernet header and at most one 802.1Q tag. kMalformedL2 if truncated.
ParseResult<L2Info> parse_l2(std::span<const uint8_t> frame);

// The IP header at `offset`, by ethertype (kEtherTypeIpv4 / kEtherTypeIpv6); `bytes` ends where
// the data present ends. Checks the rules of packet-path.md §2.2 (kMalformedL3); does not walk
// IPv6 extension headers. Other ethertypes: kMalformedL3 (callers check the ethertype first).
ParseResult<L3Info> parse_l3(std::span<const uint8_t> bytes, size_t offset, uint16_t ethertype);
ParseResult<L3Info> parse_ipv4(std::span<const uint8_t> bytes, size_t offset);
ParseResult<L3Info> parse_ipv6(std::span<const uint8_t> bytes, size_t offset);

// Walks IPv6 extension headers 0/43/44/60 (at most kIpv6MaxExtHeaders) within the datagram,
// updating l3.protocol, l4_offset and the fragment fields. Stops after a fragment header with a
// non-zero offset (what follows is data). kMalformedL3 for a 5th header or a truncated one.
// No-op for IPv4 or when already walked. `bytes` is the span l3 was parsed from.
ParseError parse_ipv6_ext(std::span<const uint8_t> bytes, L3Info& l3);

// The L4 header at l3.l4_offset, within the datagram. TCP needs 20 bytes, UDP 8, ICMP/ICMPv6 8
// (kMalformedL4 otherwise); other protocols succeed with only `protocol`/`offset` set. The TCP
// data offset is reported, not enforced (packet-path.md §2.6 only requires 20 bytes). Call it
// only when !l3.is_later_fragment().
ParseResult<L4Info> parse_l4(std::span<const uint8_t> bytes, const L3Info& l3);

// GRE header at `offset` (RFC 2784/2890); `bytes` ends at the outer datagram end.
// kUnsupportedEncap for version != 0 or the routing bit; kMalformedEncap if truncated. The
// checksum is not verified (packet-path.md §2.3).
ParseResult<GreInfo> parse_gre(std::span<const uint8_t> bytes, size_t offset);
// The IP packet carried by GRE: kUnsupportedEncap unless the GRE protocol is IPv4/IPv6, then
// parse_l3 at gre.payload_offset (its errors, e.g. kMalformedL3, as for a plain packet).
ParseResult<L3Info> parse_gre_inner(std::span<const uint8_t> bytes, const GreInfo& gre);

// GUE at `offset` (the UDP payload). Variant 1 (first nibble 4 or 6) is IP directly; variant 0
// has a 4-byte header + hlen*4 bytes. kMalformedEncap if truncated; kUnsupportedEncap for a
// variant other than 0/1 or a variant-1 nibble that is not 4/6.
ParseResult<GueInfo> parse_gue(std::span<const uint8_t> bytes, size_t offset);

// The packet quoted by an ICMP error, starting at `offset` (8 bytes after the ICMP header
// start); `bytes` ends at the ICMP packet's datagram end. The quote is usually truncated, so
// its total/payload length is NOT checked; required: version == family, IPv4 IHL >= 5, and the
// whole IP header (IPv4 with options / IPv6 fixed header) plus 8 L4 bytes present. Otherwise
// kMalformedIcmpQuote.
ParseResult<IcmpQuote> parse_icmp_quote(std::span<const uint8_t> bytes, size_t offset,
                                        IpAddress::Family family);

// One shot: L2, then (IPv4/IPv6 only) L3 with extension headers, then L4 unless a later
// fragment. Not the forwarder's order (it checks the VIP before the ext walk); for tests,
// tools and the fuzzer. A non-IP frame succeeds with has_l3 == false.
ParseResult<ParsedFrame> parse_frame(std::span<const uint8_t> frame);

}  // namespace rail::packet
