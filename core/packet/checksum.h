// The Internet checksum (RFC 1071), its pseudo-header variants and RFC 1624 incremental updates.
//
// Conventions: a "sum" is a running 32-bit accumulator of big-endian 16-bit words whose carries
// are folded only at the end (RFC 1071 §2(C), "deferred carries"); a "checksum" is the 16-bit
// value stored in a header, in host order (read the field as big-endian). Summing a header that
// already holds a correct checksum yields a checksum of 0: that is how receivers verify.
#pragma once

#include <cstdint>
#include <span>

#include "core/net/address.h"

namespace rail::packet {

// Adds `bytes` to a running sum as big-endian 16-bit words. An odd trailing byte is padded with
// a zero byte (RFC 1071 §4.1), so only the last span of a multi-span sum may have odd length.
// A 32-bit accumulator cannot overflow for spans below 128 KiB per call; callers sum packets.
uint32_t checksum_add(std::span<const uint8_t> bytes, uint32_t sum = 0);

// Adds one 16-bit word (host order) to a running sum.
constexpr uint32_t checksum_add_word(uint16_t word, uint32_t sum) {
  return sum + word;
}

// Folds the carries of a running sum and returns its one's complement: the checksum value.
constexpr uint16_t checksum_finish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// The checksum of `bytes` alone (0 when `bytes` already carries a correct checksum).
inline uint16_t internet_checksum(std::span<const uint8_t> bytes) {
  return checksum_finish(checksum_add(bytes));
}

// The IPv4 header checksum (RFC 791) of `header` (IHL*4 bytes), computed as if the checksum
// field (bytes 10-11) were zero, so it can be called on a header whatever that field holds.
// Precondition: header.size() >= 20.
uint16_t ipv4_header_checksum(std::span<const uint8_t> header);

// Running sum of the TCP/UDP pseudo-header for IPv4 (RFC 793 §3.1, RFC 768): source, destination,
// zero, protocol, L4 length (bytes of L4 header + data).
uint32_t pseudo_header_sum_v4(const uint8_t src[4], const uint8_t dst[4], uint8_t protocol,
                              uint16_t l4_length);

// Running sum of the IPv6 upper-layer pseudo-header (RFC 8200 §8.1): source, destination,
// 32-bit upper-layer length, 24 zero bits, next header (the upper-layer protocol, not an
// extension header). Used by TCP, UDP and ICMPv6 (RFC 4443 §2.3).
uint32_t pseudo_header_sum_v6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                              uint32_t upper_length);

// The TCP/UDP/ICMPv6 checksum of `segment` (L4 header + data) with the pseudo-header of the
// given addresses (both of one family). With the checksum field zeroed this is the value to
// store (UDP transmits 0 as 0xFFFF, RFC 768: the caller's job); over a segment with a correct
// checksum it returns 0. Plain ICMPv4 has no pseudo-header: use internet_checksum.
uint16_t l4_checksum(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                     std::span<const uint8_t> segment);

// RFC 1624 eqn. 3: the new checksum after a 16-bit field changes from `old_value` to
// `new_value`: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never produces the 0xFFFF/0x0000
// mismatch with a full recomputation (RFC 1624 §3).
constexpr uint16_t checksum_update16(uint16_t old_checksum, uint16_t old_value,
                                     uint16_t new_value) {
  uint32_t sum = static_cast<uint16_t>(~old_checksum);
  sum += static_cast<uint16_t>(~old_value);
  sum += new_value;
  return checksum_finish(sum);
}

// The same for a 32-bit field (an IPv4 address, a TCP sequence number): two 16-bit words.
constexpr uint16_t checksum_update32(uint16_t old_checksum, uint32_t old_value,
                                     uint32_t new_value) {
  uint32_t sum = static_cast<uint16_t>(~old_checksum);
  sum += static_cast<uint16_t>(~(old_value >> 16));
  sum += static_cast<uint16_t>(~old_value);
  sum += new_value >> 16;
  sum += new_value & 0xFFFF;
  return checksum_finish(sum);
}

}  // namespace rail::packet
