// ICMP / ICMPv6 destination-unreachable parsing for passive health detection (bounds-checked).
//
// raild's IcmpListener reads these from raw sockets: an unreachable from a backend's address, or
// from a router about a packet to a backend, makes that backend suspect (docs/health-checks.md
// "Passive detection"). Only codes that say a host, network, port or policy is in the way
// count; "fragmentation needed" (path MTU discovery) and "time exceeded" are not health signals.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "core/net/address.h"
#include "core/packet/parser.h"
#include "core/result.h"

namespace rail::health {

struct IcmpUnreachable {
  IpAddress from;  // the ICMP message's source: the reporting host or router
  uint8_t type = 0;
  uint8_t code = 0;
  packet::IcmpQuote quote;  // the packet it is about (its src, dst, protocol, first ports)
};

// ICMPv4 type 3 codes that count: net (0), host (1), port (3) unreachable, destination network
// / host unknown (6, 7), network / host / communication administratively prohibited (9, 10, 13).
bool is_health_unreachable_v4(uint8_t code);
// ICMPv6 type 1 codes that count: no route (0), administratively prohibited (1), address (3) and
// port (4) unreachable, source address failed policy (5), reject route (6).
bool is_health_unreachable_v6(uint8_t code);

// One datagram as an AF_INET SOCK_RAW IPPROTO_ICMP socket returns it: the IPv4 header, then
// ICMP. The value when it is a destination unreachable with a counted code; nullopt for any
// other well-formed ICMP message; kMalformed (with the rule) when the IP header, the ICMP
// header, its checksum or the quoted IP header + 8 bytes are not right.
Result<std::optional<IcmpUnreachable>> parse_icmpv4_unreachable(std::span<const uint8_t> datagram);

// One message as an AF_INET6 SOCK_RAW IPPROTO_ICMPV6 socket returns it: the ICMPv6 header and
// body only (the kernel strips the IPv6 header and has verified the checksum); `from` is the
// address recvfrom() reported. Same results as the IPv4 variant.
Result<std::optional<IcmpUnreachable>> parse_icmpv6_unreachable(const IpAddress& from,
                                                                std::span<const uint8_t> message);

}  // namespace rail::health
