// ICMP replies the node itself sends: echo replies for VIPs and "fragmentation needed" /
// "packet too big" when a packet would not fit once encapsulated (docs/packet-path.md §7, §8).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/packet/parser.h"

namespace rail {

// Bytes of the offending IP packet quoted in a too-big reply (docs/packet-path.md §7).
inline constexpr size_t kTooBigQuoteBytes = 128;
inline constexpr uint8_t kReplyTtl = 64;

// Echo reply to the echo request `ip_packet` (the request's IP datagram bytes, parsed as `l3`
// with its ICMP header `l4`), sent back to the Ethernet source of `l2`.
void write_echo_reply(const packet::L2Info& l2, std::span<const uint8_t> ip_packet,
                      const packet::L3Info& l3, const packet::L4Info& l4,
                      std::vector<uint8_t>& out);

// ICMP "fragmentation needed" (IPv4, RFC 1191) or ICMPv6 "packet too big" (RFC 8201) from the
// VIP (`l3.dst`) to the client (`l3.src`), advertising `mtu`, quoting the first
// kTooBigQuoteBytes of `ip_packet`.
void write_too_big(const packet::L2Info& l2, std::span<const uint8_t> ip_packet,
                   const packet::L3Info& l3, uint32_t mtu, std::vector<uint8_t>& out);

}  // namespace rail
