// Wire constants and plain structs of decoded header fields (host-order values) for every
// header Rail reads or writes: Ethernet/802.1Q, IPv4, IPv6 (+ extension headers), TCP, UDP,
// ICMP, ICMPv6, GRE and GUE. The structs hold *values*, not wire layouts: the parser fills
// them, the builder serializes them. Offsets are byte offsets from the start of the span the
// parser was given.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/net/address.h"

namespace rail::packet {

// --- Ethertypes (IEEE 802 / IANA) ---
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  // IEEE 802.1Q tag
inline constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
inline constexpr uint16_t kEtherTypeExperimental = 0x88B5;  // IEEE 802 local experimental 1

// --- IP protocol numbers / IPv6 next headers (IANA) ---
inline constexpr uint8_t kIpProtoHopByHop = 0;  // IPv6 extension header (RFC 8200 §4.3)
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoIpip = 4;  // IPv4 in IP (RFC 2003)
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIpv6 = 41;      // IPv6 in IP (RFC 2473)
inline constexpr uint8_t kIpProtoRouting = 43;   // IPv6 extension header (RFC 8200 §4.4)
inline constexpr uint8_t kIpProtoFragment = 44;  // IPv6 extension header (RFC 8200 §4.5)
inline constexpr uint8_t kIpProtoGre = 47;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;
inline constexpr uint8_t kIpProtoNoNext = 59;         // IPv6 "no next header"
inline constexpr uint8_t kIpProtoDestOpts = 60;       // IPv6 extension header (RFC 8200 §4.6)
inline constexpr uint8_t kIpProtoExperimental = 253;  // RFC 3692 experimentation

// --- ICMPv4 types and codes (RFC 792, RFC 1191) ---
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpCodeFragNeeded = 4;  // with kIcmpDestUnreachable (RFC 1191)
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpParameterProblem = 12;

// --- ICMPv6 types (RFC 4443, RFC 4861) ---
inline constexpr uint8_t kIcmpv6DestUnreachable = 1;
inline constexpr uint8_t kIcmpv6PacketTooBig = 2;
inline constexpr uint8_t kIcmpv6TimeExceeded = 3;
inline constexpr uint8_t kIcmpv6ParameterProblem = 4;
inline constexpr uint8_t kIcmpv6EchoRequest = 128;
inline constexpr uint8_t kIcmpv6EchoReply = 129;
inline constexpr uint8_t kIcmpv6RouterSolicitation = 133;
inline constexpr uint8_t kIcmpv6RouterAdvertisement = 134;
inline constexpr uint8_t kIcmpv6NeighborSolicitation = 135;
inline constexpr uint8_t kIcmpv6NeighborAdvertisement = 136;

// --- TCP flag bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR) ---
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;
inline constexpr uint8_t kTcpUrg = 0x20;
inline constexpr uint8_t kTcpEce = 0x40;
inline constexpr uint8_t kTcpCwr = 0x80;

// --- GRE flag bits in the first 16-bit word (RFC 2784 §2, RFC 2890 §2, RFC 1701 routing) ---
inline constexpr uint16_t kGreChecksumBit = 0x8000;  // C: checksum + reserved1 present
inline constexpr uint16_t kGreRoutingBit = 0x4000;   // R (RFC 1701 only): Rail rejects it
inline constexpr uint16_t kGreKeyBit = 0x2000;       // K (RFC 2890): 32-bit key present
inline constexpr uint16_t kGreSequenceBit = 0x1000;  // S (RFC 2890): sequence number present
inline constexpr uint16_t kGreVersionMask = 0x0007;

// --- Fixed sizes in bytes ---
inline constexpr size_t kEthernetHeaderSize = 14;
inline constexpr size_t kVlanTagSize = 4;
inline constexpr size_t kIpv4MinHeaderSize = 20;
inline constexpr size_t kIpv4MaxHeaderSize = 60;
inline constexpr size_t kIpv6HeaderSize = 40;
inline constexpr size_t kIpv6FragmentHeaderSize = 8;
inline constexpr size_t kTcpMinHeaderSize = 20;
inline constexpr size_t kUdpHeaderSize = 8;
inline constexpr size_t kIcmpHeaderSize = 8;  // type, code, checksum + 4 type-specific bytes
inline constexpr size_t kGreBaseHeaderSize = 4;
inline constexpr size_t kGueHeaderSize = 4;      // variant 0 base header, before extension fields
inline constexpr size_t kIpv6MaxExtHeaders = 4;  // docs/packet-path.md §2.5
inline constexpr uint16_t kGueDefaultPort = 6080;

// IPv4 flag bits in the flags/fragment-offset word (RFC 791 §3.1).
inline constexpr uint16_t kIpv4FlagDf = 0x4000;
inline constexpr uint16_t kIpv4FlagMf = 0x2000;
inline constexpr uint16_t kIpv4FragOffsetMask = 0x1FFF;  // in units of 8 bytes

// Ethernet II with at most one 802.1Q tag.
struct EthernetHeader {
  MacAddress dst;
  MacAddress src;
  bool has_vlan = false;
  uint16_t vlan_tci = 0;   // PCP(3) | DEI(1) | VID(12); valid when has_vlan
  uint16_t ethertype = 0;  // of the payload (after the tag, if any)
};

// IPv4 (RFC 791). `ihl` in 32-bit words; options are the IHL*4-20 bytes after the fixed header.
struct Ipv4Header {
  uint8_t ihl = 5;
  uint8_t tos = 0;
  uint16_t total_length = 0;  // bytes, header included
  uint16_t id = 0;
  bool df = false;
  bool mf = false;
  uint16_t frag_offset = 0;  // in units of 8 bytes (13 bits)
  uint8_t ttl = 64;
  uint8_t protocol = 0;
  uint16_t checksum = 0;
  IpAddress src;
  IpAddress dst;
};

// IPv6 fixed header (RFC 8200 §3).
struct Ipv6Header {
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;      // 20 bits
  uint16_t payload_length = 0;  // bytes after the fixed header, extension headers included
  uint8_t next_header = 0;
  uint8_t hop_limit = 64;
  IpAddress src;
  IpAddress dst;
};

// IPv6 fragment extension header (RFC 8200 §4.5).
struct Ipv6FragmentHeader {
  uint8_t next_header = 0;
  uint16_t frag_offset = 0;  // in units of 8 bytes (13 bits)
  bool more_fragments = false;
  uint32_t id = 0;
};

struct TcpHeader {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t data_offset = 5;  // in 32-bit words
  uint8_t flags = 0;        // kTcp* bits
  uint16_t window = 65535;
  uint16_t checksum = 0;
  uint16_t urgent = 0;
};

struct UdpHeader {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t length = 0;  // header + data
  uint16_t checksum = 0;
};

// ICMP and ICMPv6 share the first 8 bytes' layout: type, code, checksum, 4 bytes whose meaning
// depends on the type (echo: id + sequence; frag needed: unused16 + MTU16; too big: MTU32).
struct IcmpHeader {
  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t checksum = 0;
  uint32_t rest = 0;

  uint16_t echo_id() const { return static_cast<uint16_t>(rest >> 16); }
  uint16_t echo_sequence() const { return static_cast<uint16_t>(rest); }
};

// GRE (RFC 2784 with the RFC 2890 key and sequence extensions).
struct GreHeader {
  bool has_checksum = false;
  bool has_routing = false;  // RFC 1701 only; never valid for Rail
  bool has_key = false;
  bool has_sequence = false;
  uint8_t version = 0;
  uint16_t protocol = 0;  // ethertype of the payload
  uint16_t checksum = 0;  // valid when has_checksum
  uint32_t key = 0;       // valid when has_key
  uint32_t sequence = 0;  // valid when has_sequence
};

// GUE (draft-ietf-intarea-gue): variant 0 has a 4-byte header plus hlen*4 bytes of extension
// fields; variant 1 has no header: the UDP payload is an IPv4 or IPv6 packet.
struct GueHeader {
  uint8_t variant = 0;   // 0 or 1
  bool control = false;  // variant 0: C bit
  uint8_t hlen = 0;      // variant 0: extension words after the base header
  uint8_t protocol = 0;  // IP protocol of the payload (variant 1: 4 or 41 by IP version)
  uint16_t flags = 0;    // variant 0
};

}  // namespace rail::packet
