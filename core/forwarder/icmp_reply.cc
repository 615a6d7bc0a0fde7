// Writers for the ICMP replies of the reference forwarder.
#include "core/forwarder/icmp_reply.h"

#include <algorithm>
#include <cstring>

#include "core/packet/checksum.h"
#include "core/packet/writer.h"

namespace rail {
namespace {

using namespace rail::packet;

EthernetHeader swapped(const L2Info& l2, uint16_t ethertype) {
  EthernetHeader eth = l2.eth;
  std::swap(eth.src, eth.dst);
  eth.ethertype = ethertype;
  return eth;
}

}  // namespace

void write_echo_reply(const L2Info& l2, std::span<const uint8_t> ip_packet, const L3Info& l3,
                      const L4Info& l4, std::vector<uint8_t>& out) {
  const bool v6 = l3.family == IpAddress::Family::kV6;
  EthernetHeader eth = swapped(l2, v6 ? kEtherTypeIpv6 : kEtherTypeIpv4);
  const size_t eth_size = ethernet_size(eth);
  out.resize(eth_size + ip_packet.size());
  write_ethernet(out, eth);
  uint8_t* ip = out.data() + eth_size;
  std::memcpy(ip, ip_packet.data(), ip_packet.size());
  const size_t icmp_at = l4.offset - l3.offset;  // offsets in `ip_packet`
  if (v6) {
    std::memcpy(ip + 8, l3.dst.data(), 16);
    std::memcpy(ip + 24, l3.src.data(), 16);
    ip[7] = kReplyTtl;
  } else {
    std::memcpy(ip + 12, l3.dst.data(), 4);
    std::memcpy(ip + 16, l3.src.data(), 4);
    ip[8] = kReplyTtl;
    fill_ipv4_checksum(std::span<uint8_t>(ip, l3.header_length));
  }
  // Type request -> reply; the addresses swap leaves the ICMPv6 pseudo-header sum unchanged, so
  // the checksum changes only by the type word (RFC 1624 incremental update).
  const uint8_t reply_type = v6 ? kIcmpv6EchoReply : kIcmpEchoReply;
  const uint16_t old_word = uint16_t(l4.icmp_type << 8 | l4.icmp_code);
  const uint16_t new_word = uint16_t(reply_type << 8 | l4.icmp_code);
  ip[icmp_at] = reply_type;
  store_be16(ip + icmp_at + 2, checksum_update16(l4.checksum, old_word, new_word));
}

void write_too_big(const L2Info& l2, std::span<const uint8_t> ip_packet, const L3Info& l3,
                   uint32_t mtu, std::vector<uint8_t>& out) {
  const bool v6 = l3.family == IpAddress::Family::kV6;
  const size_t quote = std::min(ip_packet.size(), kTooBigQuoteBytes);
  EthernetHeader eth = swapped(l2, v6 ? kEtherTypeIpv6 : kEtherTypeIpv4);
  const size_t eth_size = ethernet_size(eth);
  const size_t ip_size = v6 ? kIpv6HeaderSize : kIpv4MinHeaderSize;
  out.resize(eth_size + ip_size + kIcmpHeaderSize + quote);
  std::span<uint8_t> buf(out);
  size_t at = write_ethernet(buf, eth);
  IcmpHeader icmp;
  if (v6) {
    Ipv6Header ip;
    ip.payload_length = uint16_t(kIcmpHeaderSize + quote);
    ip.next_header = kIpProtoIcmpv6;
    ip.hop_limit = kReplyTtl;
    ip.src = l3.dst;
    ip.dst = l3.src;
    at += write_ipv6(buf.subspan(at), ip);
    icmp.type = kIcmpv6PacketTooBig;
    icmp.rest = mtu;
  } else {
    Ipv4Header ip;
    ip.total_length = uint16_t(ip_size + kIcmpHeaderSize + quote);
    ip.ttl = kReplyTtl;
    ip.protocol = kIpProtoIcmp;
    ip.src = l3.dst;
    ip.dst = l3.src;
    const size_t ip_at = at;
    at += write_ipv4(buf.subspan(at), ip);
    fill_ipv4_checksum(buf.subspan(ip_at, kIpv4MinHeaderSize));
    icmp.type = kIcmpDestUnreachable;
    icmp.code = kIcmpCodeFragNeeded;
    icmp.rest = mtu & 0xffffu;  // RFC 1191: next-hop MTU in the low 16 bits
  }
  const size_t icmp_at = at;
  at += write_icmp(buf.subspan(at), icmp);
  std::memcpy(out.data() + at, ip_packet.data(), quote);
  std::span<const uint8_t> message(out.data() + icmp_at, kIcmpHeaderSize + quote);
  uint16_t csum =
      v6 ? l4_checksum(l3.dst, l3.src, kIpProtoIcmpv6, message) : internet_checksum(message);
  store_be16(out.data() + icmp_at + 2, csum);
}

}  // namespace rail
