// ICMP destination-unreachable parsing on the core packet parser (parse_ipv4/l4/icmp_quote).
#include "daemon/health/icmp_unreachable.h"

#include <string>

#include "core/packet/checksum.h"
#include "core/packet/headers.h"

namespace rail::health {
namespace {

constexpr size_t kIcmpHeaderSize = 8;  // type, code, checksum, 4 type-specific bytes

Error malformed(const std::string& what) {
  return make_error(ErrorCode::kMalformed, "icmp: " + what);
}

}  // namespace

bool is_health_unreachable_v4(uint8_t code) {
  switch (code) {
    case 0:   // network unreachable
    case 1:   // host unreachable
    case 3:   // port unreachable
    case 6:   // destination network unknown
    case 7:   // destination host unknown
    case 9:   // network administratively prohibited
    case 10:  // host administratively prohibited
    case 13:  // communication administratively prohibited (RFC 1812)
      return true;
    default:  // 2 protocol, 4 fragmentation needed (PMTU), source route, precedence...
      return false;
  }
}

bool is_health_unreachable_v6(uint8_t code) {
  return code <= 6 && code != 2;  // 2: beyond scope of source address
}

Result<std::optional<IcmpUnreachable>> parse_icmpv4_unreachable(std::span<const uint8_t> datagram) {
  auto l3 = packet::parse_ipv4(datagram, 0);
  if (!l3) return l3.to_error();
  if (l3->protocol != packet::kIpProtoIcmp) return malformed("not an ICMP datagram");
  if (l3->is_fragment()) return malformed("fragmented ICMP error");  // quotes are < 576 bytes
  // Everything below reads within the datagram (IP total length), not the receive buffer.
  const auto ip = datagram.first(l3->end);
  auto l4 = packet::parse_l4(ip, *l3);
  if (!l4) return l4.to_error();
  if (packet::internet_checksum(ip.subspan(l4->offset)) != 0) return malformed("bad checksum");
  if (l4->icmp_type != packet::kIcmpDestUnreachable || !is_health_unreachable_v4(l4->icmp_code))
    return std::optional<IcmpUnreachable>();
  auto quote = packet::parse_icmp_quote(ip, l4->offset + kIcmpHeaderSize, IpAddress::Family::kV4);
  if (!quote) return quote.to_error();
  return std::optional<IcmpUnreachable>(
      IcmpUnreachable{l3->src, l4->icmp_type, l4->icmp_code, *quote});
}

Result<std::optional<IcmpUnreachable>> parse_icmpv6_unreachable(const IpAddress& from,
                                                                std::span<const uint8_t> message) {
  if (!from.is_v6()) return malformed("ICMPv6 from a non-IPv6 address");
  packet::Cursor cursor(message);
  const auto type = cursor.u8();
  const auto code = cursor.u8();
  if (!type || !code || !cursor.skip(kIcmpHeaderSize - 2)) return malformed("header truncated");
  if (*type != packet::kIcmpv6DestUnreachable || !is_health_unreachable_v6(*code))
    return std::optional<IcmpUnreachable>();
  auto quote = packet::parse_icmp_quote(message, kIcmpHeaderSize, IpAddress::Family::kV6);
  if (!quote) return quote.to_error();
  return std::optional<IcmpUnreachable>(IcmpUnreachable{from, *type, *code, *quote});
}

}  // namespace rail::health
