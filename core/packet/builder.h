// PacketBuilder: readable, deterministic construction of frames and IP packets.
//
// Layers stack in call order (outermost first); modifiers apply to the most recent layer of
// their kind. Lengths, next-protocol fields and checksums (IPv4 header; TCP/UDP/ICMPv6 with the
// pseudo-header of the nearest enclosing IP layer; ICMPv4; GRE when asked) are computed at
// build() unless overridden, so tests can also write malformed packets.
//
//   auto frame = PacketBuilder()
//                    .eth(client_mac, node_mac).vlan(100)    // (source, destination)
//                    .ipv4(client_ip, vip).ttl(64).df()
//                    .tcp(40000, 80).syn()
//                    .payload("hello")
//                    .build();
//
// Without .eth() the result is a bare IP packet (e.g. to quote in an ICMP error). Defaults are
// fixed: TTL/hop limit 64, TOS 0, IPv4 id 0 and no flags, flow label 0, TCP seq/ack 0, window
// 65535, no TCP flags. See docs/packets.md.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "core/net/address.h"
#include "core/packet/headers.h"

namespace rail::packet {

class PacketBuilder {
 public:
  // --- L2 ---
  PacketBuilder& eth(const MacAddress& src, const MacAddress& dst);
  PacketBuilder& vlan(uint16_t tci);             // one 802.1Q tag on the latest eth()
  PacketBuilder& ethertype(uint16_t ethertype);  // override (default: from the next layer)

  // --- L3: IPv4 / IPv6 by the addresses' family (both must have the same family) ---
  PacketBuilder& ip(const IpAddress& src, const IpAddress& dst);
  PacketBuilder& ipv4(const IpAddress& src, const IpAddress& dst) { return ip(src, dst); }
  PacketBuilder& ipv6(const IpAddress& src, const IpAddress& dst) { return ip(src, dst); }
  // Modifiers of the latest IP layer (IPv4 or IPv6 as noted).
  PacketBuilder& ttl(uint8_t ttl);                                // TTL / hop limit
  PacketBuilder& tos(uint8_t tos);                                // TOS / traffic class
  PacketBuilder& id(uint16_t id);                                 // IPv4
  PacketBuilder& df();                                            // IPv4
  PacketBuilder& mf();                                            // IPv4
  PacketBuilder& frag_offset(uint16_t units_of_8_bytes);          // IPv4
  PacketBuilder& ipv4_options(std::span<const uint8_t> options);  // IPv4, multiple of 4 bytes
  PacketBuilder& flow_label(uint32_t label);                      // IPv6
  // Overrides for malformed packets.
  PacketBuilder& ihl(uint8_t words);              // IPv4 IHL
  PacketBuilder& ip_version(uint8_t version);     // the version nibble
  PacketBuilder& ip_length(uint16_t length);      // IPv4 total length / IPv6 payload length
  PacketBuilder& ip_checksum(uint16_t checksum);  // IPv4
  PacketBuilder& protocol(uint8_t protocol);      // IPv4 protocol / IPv6 first next header
  // IPv6 extension headers of the latest IPv6 layer, in call order. Each is 8 bytes: hop-by-hop
  // and destination options hold one PadN option; routing is type 253 (RFC 4727 experimental)
  // with segments left 0.
  PacketBuilder& hop_by_hop();
  PacketBuilder& routing_header();
  PacketBuilder& dest_options();
  PacketBuilder& fragment_header(uint16_t offset_units, bool more, uint32_t id);

  // --- L4 ---
  PacketBuilder& tcp(uint16_t src_port, uint16_t dst_port);
  PacketBuilder& syn();
  PacketBuilder& ack();
  PacketBuilder& fin();
  PacketBuilder& rst();
  PacketBuilder& psh();
  PacketBuilder& tcp_flags(uint8_t flags);  // replaces all flags
  PacketBuilder& seq(uint32_t seq);
  PacketBuilder& ack_number(uint32_t ack);
  PacketBuilder& window(uint16_t window);
  PacketBuilder& udp(uint16_t src_port, uint16_t dst_port);
  PacketBuilder& udp_length(uint16_t length);  // override
  // ICMP (v4): any type; helpers for the common ones. The quoted packet of an error is the
  // following .payload(bytes).
  PacketBuilder& icmp(uint8_t type, uint8_t code, uint32_t rest = 0);
  PacketBuilder& icmp_echo_request(uint16_t id, uint16_t sequence);
  PacketBuilder& icmp_echo_reply(uint16_t id, uint16_t sequence);
  PacketBuilder& icmp_frag_needed(uint16_t next_hop_mtu);  // type 3 code 4 (RFC 1191)
  PacketBuilder& icmpv6(uint8_t type, uint8_t code, uint32_t rest = 0);
  PacketBuilder& icmpv6_echo_request(uint16_t id, uint16_t sequence);
  PacketBuilder& icmpv6_echo_reply(uint16_t id, uint16_t sequence);
  PacketBuilder& icmpv6_packet_too_big(uint32_t mtu);
  // Neighbour solicitation (RFC 4861 §4.3): reserved word + the 16-byte target address.
  PacketBuilder& icmpv6_neighbor_solicitation(const IpAddress& target);
  // Override of the latest TCP/UDP/ICMP/ICMPv6 checksum (UDP 0 = "no checksum").
  PacketBuilder& l4_checksum(uint16_t checksum);

  // --- Encapsulation ---
  PacketBuilder& gre();                             // 4-byte GRE, protocol from the next layer
  PacketBuilder& gre_checksum();                    // C bit + computed checksum (RFC 2784)
  PacketBuilder& gre_key(uint32_t key);             // K bit (RFC 2890)
  PacketBuilder& gre_sequence(uint32_t seq);        // S bit (RFC 2890)
  PacketBuilder& gre_protocol(uint16_t ethertype);  // override
  PacketBuilder& gre_version(uint8_t version);      // override (malformed tests)
  PacketBuilder& gre_routing_bit();                 // RFC 1701 R bit (malformed tests)
  // GUE variant 1: a UDP header (checksum 0, RFC 6935) directly around the next IP layer.
  PacketBuilder& gue(uint16_t src_port, uint16_t dst_port = kGueDefaultPort);

  // --- Data ---
  PacketBuilder& payload(std::string_view text);
  PacketBuilder& payload(std::span<const uint8_t> bytes);

  // --- Whole result ---
  PacketBuilder& pad(size_t zero_bytes);   // appended after everything, outside every length
  PacketBuilder& truncate(size_t length);  // cut the result to `length` bytes (after checksums)

  // False if a modifier had no layer of its kind (a bug in the caller); build() then asserts.
  bool valid() const { return valid_; }
  std::vector<uint8_t> build() const;

 private:
  struct Eth {
    EthernetHeader header;
    bool ethertype_set = false;
  };
  struct Ipv6Ext {
    uint8_t type;
    Ipv6FragmentHeader fragment;  // for type 44
  };
  struct Ip {
    IpAddress src, dst;
    uint8_t tos = 0, ttl = 64;
    uint16_t id = 0, frag_offset = 0;
    bool df = false, mf = false;
    uint32_t flow_label = 0;
    std::vector<uint8_t> options;
    std::vector<Ipv6Ext> ext;
    std::optional<uint8_t> ihl, version, protocol;
    std::optional<uint16_t> length, checksum;
  };
  struct Tcp {
    TcpHeader header;
    std::optional<uint16_t> checksum;
  };
  struct Udp {
    UdpHeader header;
    std::optional<uint16_t> length, checksum;
  };
  struct Icmp {
    IcmpHeader header;
    bool v6 = false;
    std::optional<uint16_t> checksum;
  };
  struct Gre {
    GreHeader header;
    bool protocol_set = false;
  };
  struct Payload {
    std::vector<uint8_t> bytes;
  };
  using Layer = std::variant<Eth, Ip, Tcp, Udp, Icmp, Gre, Payload>;

  template <typename T>
  T* latest();
  Ip* latest_ip(int family);  // 0: either family, 4 or 6: only that one
  std::optional<uint16_t>* latest_l4_checksum();
  void encode(size_t index, std::vector<uint8_t>& inner) const;
  const Ip* enclosing_ip(size_t index) const;

  std::vector<Layer> layers_;
  size_t pad_ = 0;
  std::optional<size_t> truncate_;
  bool valid_ = true;
};

}  // namespace rail::packet
