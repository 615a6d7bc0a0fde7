// Header serializers (see writer.h): field values in, big-endian wire bytes out.
#include "core/packet/writer.h"

#include <cstring>

#include "core/packet/checksum.h"

namespace rail::packet {

size_t write_ethernet(std::span<uint8_t> out, const EthernetHeader& h) {
  const size_t n = ethernet_size(h);
  if (out.size() < n) return 0;
  uint8_t* p = out.data();
  std::memcpy(p, h.dst.data(), 6);
  std::memcpy(p + 6, h.src.data(), 6);
  if (h.has_vlan) {
    store_be16(p + 12, kEtherTypeVlan);
    store_be16(p + 14, h.vlan_tci);
    store_be16(p + 16, h.ethertype);
  } else {
    store_be16(p + 12, h.ethertype);
  }
  return n;
}

size_t write_ipv4(std::span<uint8_t> out, const Ipv4Header& h, std::span<const uint8_t> options) {
  const size_t n = kIpv4MinHeaderSize + options.size();
  if (out.size() < n) return 0;
  uint8_t* p = out.data();
  p[0] = static_cast<uint8_t>(4 << 4 | (h.ihl & 0x0F));
  p[1] = h.tos;
  store_be16(p + 2, h.total_length);
  store_be16(p + 4, h.id);
  store_be16(p + 6, static_cast<uint16_t>((h.df ? kIpv4FlagDf : 0) | (h.mf ? kIpv4FlagMf : 0) |
                                          (h.frag_offset & kIpv4FragOffsetMask)));
  p[8] = h.ttl;
  p[9] = h.protocol;
  store_be16(p + 10, h.checksum);
  std::memcpy(p + 12, h.src.data(), 4);
  std::memcpy(p + 16, h.dst.data(), 4);
  if (!options.empty()) std::memcpy(p + 20, options.data(), options.size());
  return n;
}

void fill_ipv4_checksum(std::span<uint8_t> header) {
  store_be16(header.data() + 10, ipv4_header_checksum(header));
}

size_t write_ipv6(std::span<uint8_t> out, const Ipv6Header& h) {
  if (out.size() < kIpv6HeaderSize) return 0;
  uint8_t* p = out.data();
  store_be32(p, 6u << 28 | uint32_t(h.traffic_class) << 20 | (h.flow_label & 0xFFFFF));
  store_be16(p + 4, h.payload_length);
  p[6] = h.next_header;
  p[7] = h.hop_limit;
  std::memcpy(p + 8, h.src.data(), 16);
  std::memcpy(p + 24, h.dst.data(), 16);
  return kIpv6HeaderSize;
}

size_t write_ipv6_fragment(std::span<uint8_t> out, const Ipv6FragmentHeader& h) {
  if (out.size() < kIpv6FragmentHeaderSize) return 0;
  uint8_t* p = out.data();
  p[0] = h.next_header;
  p[1] = 0;
  store_be16(p + 2, static_cast<uint16_t>((h.frag_offset & 0x1FFF) << 3 | (h.more_fragments)));
  store_be32(p + 4, h.id);
  return kIpv6FragmentHeaderSize;
}

size_t write_tcp(std::span<uint8_t> out, const TcpHeader& h) {
  if (out.size() < kTcpMinHeaderSize) return 0;
  uint8_t* p = out.data();
  store_be16(p, h.src_port);
  store_be16(p + 2, h.dst_port);
  store_be32(p + 4, h.seq);
  store_be32(p + 8, h.ack);
  p[12] = static_cast<uint8_t>(h.data_offset << 4);
  p[13] = h.flags;
  store_be16(p + 14, h.window);
  store_be16(p + 16, h.checksum);
  store_be16(p + 18, h.urgent);
  return kTcpMinHeaderSize;
}

size_t write_udp(std::span<uint8_t> out, const UdpHeader& h) {
  if (out.size() < kUdpHeaderSize) return 0;
  uint8_t* p = out.data();
  store_be16(p, h.src_port);
  store_be16(p + 2, h.dst_port);
  store_be16(p + 4, h.length);
  store_be16(p + 6, h.checksum);
  return kUdpHeaderSize;
}

size_t write_icmp(std::span<uint8_t> out, const IcmpHeader& h) {
  if (out.size() < kIcmpHeaderSize) return 0;
  uint8_t* p = out.data();
  p[0] = h.type;
  p[1] = h.code;
  store_be16(p + 2, h.checksum);
  store_be32(p + 4, h.rest);
  return kIcmpHeaderSize;
}

size_t gre_size(const GreHeader& h) {
  return kGreBaseHeaderSize + (h.has_checksum ? 4 : 0) + (h.has_key ? 4 : 0) +
         (h.has_sequence ? 4 : 0);
}

size_t write_gre(std::span<uint8_t> out, const GreHeader& h) {
  const size_t n = gre_size(h);
  if (out.size() < n) return 0;
  uint8_t* p = out.data();
  uint16_t flags = h.version & kGreVersionMask;
  if (h.has_checksum) flags |= kGreChecksumBit;
  if (h.has_routing) flags |= kGreRoutingBit;
  if (h.has_key) flags |= kGreKeyBit;
  if (h.has_sequence) flags |= kGreSequenceBit;
  store_be16(p, flags);
  store_be16(p + 2, h.protocol);
  size_t at = 4;
  if (h.has_checksum) {
    store_be16(p + at, h.checksum);
    store_be16(p + at + 2, 0);  // reserved1
    at += 4;
  }
  if (h.has_key) {
    store_be32(p + at, h.key);
    at += 4;
  }
  if (h.has_sequence) store_be32(p + at, h.sequence);
  return n;
}

}  // namespace rail::packet
