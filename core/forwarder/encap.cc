// Encapsulation writers for the reference forwarder (byte layout: docs/packet-path.md §6).
#include "core/forwarder/encap.h"

#include <cstring>

#include "core/packet/writer.h"

namespace rail {
namespace {

using namespace rail::packet;

constexpr uint8_t kOuterTtl = 64;

uint8_t outer_protocol(Encap encap, bool inner_v6) {
  switch (encap) {
    case Encap::kGre:
      return kIpProtoGre;
    case Encap::kIpip:
      return inner_v6 ? kIpProtoIpv6 : kIpProtoIpip;
    case Encap::kGue:
      return kIpProtoUdp;
    case Encap::kL2:
      break;
  }
  return 0;
}

uint32_t tunnel_header_size(Encap encap) {
  switch (encap) {
    case Encap::kGre:
      return kGreBaseHeaderSize;
    case Encap::kGue:
      return kUdpHeaderSize;
    case Encap::kIpip:
    case Encap::kL2:
      break;
  }
  return 0;
}

}  // namespace

uint32_t encap_overhead(Encap encap, bool outer_v6) {
  if (encap == Encap::kL2) return 0;
  return (outer_v6 ? kIpv6HeaderSize : kIpv4MinHeaderSize) + tunnel_header_size(encap);
}

void write_encapsulated(const EncapRequest& r, std::vector<uint8_t>& out) {
  const bool outer_v6 = r.backend->address.is_v6();
  EthernetHeader eth = r.l2->eth;
  eth.dst = r.backend->next_hop_mac;
  eth.src = r.node->mac;
  const uint32_t overhead = encap_overhead(r.encap, outer_v6);
  const bool l2 = r.encap == Encap::kL2;
  eth.ethertype = (l2 ? r.inner_v6 : outer_v6) ? kEtherTypeIpv6 : kEtherTypeIpv4;

  const size_t eth_size = ethernet_size(eth);
  out.resize(eth_size + overhead + r.inner.size());
  std::span<uint8_t> buf(out);
  size_t at = write_ethernet(buf, eth);

  if (!l2) {
    const uint32_t outer_length = overhead + uint32_t(r.inner.size());
    const uint8_t proto = outer_protocol(r.encap, r.inner_v6);
    if (outer_v6) {
      Ipv6Header ip;
      ip.traffic_class = r.inner_tos;
      ip.flow_label = r.flow_hash & 0xfffffu;  // RFC 6438: flow label from the inner flow
      ip.payload_length = uint16_t(outer_length - kIpv6HeaderSize);
      ip.next_header = proto;
      ip.hop_limit = kOuterTtl;
      ip.src = *r.node->outer_source_v6;
      ip.dst = r.backend->address;
      at += write_ipv6(buf.subspan(at), ip);
    } else {
      Ipv4Header ip;
      ip.tos = r.inner_tos;
      ip.total_length = uint16_t(outer_length);
      ip.df = true;  // Rail never fragments; PMTUD answers instead (§7)
      ip.ttl = kOuterTtl;
      ip.protocol = proto;
      ip.src = *r.node->outer_source_v4;
      ip.dst = r.backend->address;
      const size_t ip_at = at;
      at += write_ipv4(buf.subspan(at), ip);
      fill_ipv4_checksum(buf.subspan(ip_at, kIpv4MinHeaderSize));
    }
    if (r.encap == Encap::kGre) {
      GreHeader gre;
      gre.protocol = r.inner_v6 ? kEtherTypeIpv6 : kEtherTypeIpv4;
      at += write_gre(buf.subspan(at), gre);
    } else if (r.encap == Encap::kGue) {
      UdpHeader udp;
      udp.src_port = uint16_t(0xC000 | (r.flow_hash & 0x3FFF));  // ECMP entropy (RFC 8086 §3.2)
      udp.dst_port = r.node->gue_port;
      udp.length = uint16_t(kUdpHeaderSize + r.inner.size());
      udp.checksum = 0;  // zero UDP checksum for tunnels: RFC 6935 / RFC 6936
      at += write_udp(buf.subspan(at), udp);
    }
  }
  std::memcpy(out.data() + at, r.inner.data(), r.inner.size());
}

}  // namespace rail
