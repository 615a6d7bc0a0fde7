// Serializers: header field structs (headers.h) -> wire bytes, nothing computed.
//
// Each writer stores exactly the field values it is given (lengths and checksums included), so
// the forwarder can write encapsulation headers straight into an output buffer and the builder
// can write deliberately wrong values. Each returns the bytes written, or 0 (writing nothing)
// if `out` is too small. Multi-byte fields are written big-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/packet/headers.h"

namespace rail::packet {

inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  store_be16(p, static_cast<uint16_t>(v >> 16));
  store_be16(p + 2, static_cast<uint16_t>(v));
}

// 14 bytes, 18 with a tag.
inline size_t ethernet_size(const EthernetHeader& h) {
  return kEthernetHeaderSize + (h.has_vlan ? kVlanTagSize : 0);
}
size_t write_ethernet(std::span<uint8_t> out, const EthernetHeader& h);

// 20 bytes + options (whose length should be IHL*4-20; not enforced, for malformed tests).
size_t write_ipv4(std::span<uint8_t> out, const Ipv4Header& h,
                  std::span<const uint8_t> options = {});
// Stores ipv4_header_checksum(header) into the checksum field of an already written header
// (`header` = the IHL*4 header bytes).
void fill_ipv4_checksum(std::span<uint8_t> header);

size_t write_ipv6(std::span<uint8_t> out, const Ipv6Header& h);                   // 40 bytes
size_t write_ipv6_fragment(std::span<uint8_t> out, const Ipv6FragmentHeader& h);  // 8 bytes
size_t write_tcp(std::span<uint8_t> out, const TcpHeader& h);    // 20 bytes (no options)
size_t write_udp(std::span<uint8_t> out, const UdpHeader& h);    // 8 bytes
size_t write_icmp(std::span<uint8_t> out, const IcmpHeader& h);  // 8 bytes (ICMP and ICMPv6)

// 4 bytes + 4 per optional field present (checksum+reserved1, key, sequence).
size_t gre_size(const GreHeader& h);
size_t write_gre(std::span<uint8_t> out, const GreHeader& h);

}  // namespace rail::packet
