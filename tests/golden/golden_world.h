// The cast of the golden packet cases: named addresses, the sample config and frame helpers.
//
// Everything a golden case says is spelled with these names, so a case reads like the packet
// diagram it tests: from_router(tcp4(client, 40000, web, 80).syn()) -> gre4_to(b2, ...).
// Addresses are from 198.18.0.0/15 and 2001:db8::/32 only.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/lb_config.h"
#include "core/packet/builder.h"

namespace rail::golden {

using Bytes = std::vector<uint8_t>;
using packet::PacketBuilder;

IpAddress ip(std::string_view text);    // aborts on a typo: fixtures are code
MacAddress mac(std::string_view text);  // likewise

// L2 neighbours of the Rail node.
inline const MacAddress kRouterMac = mac("02:00:00:00:0a:01");
inline const MacAddress kNodeMac = mac("02:00:00:00:0b:01");

// The node: outer source addresses, also its GRE ingress (tunnel endpoint) addresses.
inline const IpAddress kNode4 = ip("198.18.1.1");
inline const IpAddress kNode6 = ip("2001:db8:1::1");

// Clients.
inline const IpAddress kClient4 = ip("198.18.0.10");
inline const IpAddress kClient4b = ip("198.18.0.77");
inline const IpAddress kClient6 = ip("2001:db8:c::10");

// VIPs and their services (see sample_config()).
inline const IpAddress kWeb4 = ip("198.18.100.1");       // tcp/80 GRE, udp/any IPIP
inline const IpAddress kGue4 = ip("198.18.100.2");       // tcp/443 GUE
inline const IpAddress kL2Vip4 = ip("198.18.100.3");     // tcp/any L2 DSR
inline const IpAddress kSticky4 = ip("198.18.100.4");    // tcp/80 GRE, source-IP affinity
inline const IpAddress kWeb6 = ip("2001:db8:100::1");    // tcp/80 GRE, udp/53 IP6IP6
inline const IpAddress kMixed6 = ip("2001:db8:100::2");  // tcp/80 GRE to IPv4 backends
inline const IpAddress kNotVip4 = ip("198.18.200.1");    // routed elsewhere: not ours

// Backends: IPv4 b1..b5 and IPv6 c1..c4, each on the node's segment with its own MAC.
IpAddress b(int n);                           // 198.18.2.n
IpAddress c(int n);                           // 2001:db8:2::n
MacAddress mac_of(const IpAddress& backend);  // 02:00:00:00:0d:nn (v4) / 02:00:00:00:0e:nn (v6)

inline constexpr uint32_t kTableSize = 251;
inline constexpr uint16_t kMtu = 1500;

// The node and services above, with backends b1..b4 / c1..c4 up, weight 1.
LbConfig sample_config();
// The service of `config` for (vip, proto, port); aborts if missing (fixtures are code).
Service& service(LbConfig& config, const IpAddress& vip, Protocol proto, uint16_t port);

// --- Frames ---
// An IP packet (no Ethernet) as the router delivers it, framed router -> node.
Bytes from_router(const Bytes& ip_packet, uint16_t vlan_tci = 0);
// The same packet GRE-encapsulated by the router to the node (ingress mode).
Bytes gre_from_router(const Bytes& ip_packet);
// Outputs towards backend `be` carrying `ip_packet` (docs/packet-path.md §6). `flow_hash` feeds
// the IPv6 flow label and the GUE source port; the inner TOS is copied outwards.
Bytes gre_to(const IpAddress& be, const Bytes& ip_packet, uint32_t flow_hash,
             uint16_t vlan_tci = 0);
Bytes ipip_to(const IpAddress& be, const Bytes& ip_packet, uint32_t flow_hash);
Bytes gue_to(const IpAddress& be, const Bytes& ip_packet, uint32_t flow_hash);
Bytes l2_to(const IpAddress& be, const Bytes& ip_packet);
// Bare IP packets (builder chains; finish with .build()).
PacketBuilder tcp4(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport);
PacketBuilder tcp6(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport);
PacketBuilder udp4(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport);
PacketBuilder udp6(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport);
// The flow hash of client -> VIP with the service's fields (pinned by flow_hash_vectors.h).
uint32_t hash_of(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport,
                 uint8_t proto, uint32_t fields = RAIL_HASH_5TUPLE);

}  // namespace rail::golden
