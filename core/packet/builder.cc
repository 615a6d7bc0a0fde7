// PacketBuilder (see builder.h): layers are serialized innermost first, so every length and
// checksum is computed over the bytes that really follow it.
#include "core/packet/builder.h"

#include <cassert>

#include "core/packet/checksum.h"
#include "core/packet/writer.h"

namespace rail::packet {

template <typename T>
T* PacketBuilder::latest() {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    if (auto* layer = std::get_if<T>(&*it)) return layer;
  }
  valid_ = false;
  return nullptr;
}

PacketBuilder::Ip* PacketBuilder::latest_ip(int family) {
  Ip* ip = latest<Ip>();
  if (ip == nullptr) return nullptr;
  if (family == 4 && !ip->src.is_v4()) ip = nullptr;
  if (family == 6 && !ip->src.is_v6()) ip = nullptr;
  if (ip == nullptr) valid_ = false;
  return ip;
}

std::optional<uint16_t>* PacketBuilder::latest_l4_checksum() {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    if (auto* t = std::get_if<Tcp>(&*it)) return &t->checksum;
    if (auto* u = std::get_if<Udp>(&*it)) return &u->checksum;
    if (auto* i = std::get_if<Icmp>(&*it)) return &i->checksum;
  }
  valid_ = false;
  return nullptr;
}

// Applies `fn` to the latest layer of a kind; a missing layer has already marked the builder
// invalid.
#define RAIL_MODIFY(ptr_expr, body) \
  do {                              \
    if (auto* m = (ptr_expr)) {     \
      body;                         \
    }                               \
    return *this;                   \
  } while (0)

PacketBuilder& PacketBuilder::eth(const MacAddress& src, const MacAddress& dst) {
  Eth e;
  e.header.src = src;
  e.header.dst = dst;
  layers_.emplace_back(e);
  return *this;
}
PacketBuilder& PacketBuilder::vlan(uint16_t tci) {
  RAIL_MODIFY(latest<Eth>(), (m->header.has_vlan = true, m->header.vlan_tci = tci));
}
PacketBuilder& PacketBuilder::ethertype(uint16_t ethertype) {
  RAIL_MODIFY(latest<Eth>(), (m->header.ethertype = ethertype, m->ethertype_set = true));
}

PacketBuilder& PacketBuilder::ip(const IpAddress& src, const IpAddress& dst) {
  if (src.family() != dst.family()) valid_ = false;
  Ip ip;
  ip.src = src;
  ip.dst = dst;
  layers_.emplace_back(std::move(ip));
  return *this;
}
PacketBuilder& PacketBuilder::ttl(uint8_t ttl) {
  RAIL_MODIFY(latest_ip(0), m->ttl = ttl);
}
PacketBuilder& PacketBuilder::tos(uint8_t tos) {
  RAIL_MODIFY(latest_ip(0), m->tos = tos);
}
PacketBuilder& PacketBuilder::id(uint16_t id) {
  RAIL_MODIFY(latest_ip(4), m->id = id);
}
PacketBuilder& PacketBuilder::df() {
  RAIL_MODIFY(latest_ip(4), m->df = true);
}
PacketBuilder& PacketBuilder::mf() {
  RAIL_MODIFY(latest_ip(4), m->mf = true);
}
PacketBuilder& PacketBuilder::frag_offset(uint16_t units) {
  RAIL_MODIFY(latest_ip(4), m->frag_offset = units);
}
PacketBuilder& PacketBuilder::ipv4_options(std::span<const uint8_t> options) {
  RAIL_MODIFY(latest_ip(4), m->options.assign(options.begin(), options.end()));
}
PacketBuilder& PacketBuilder::flow_label(uint32_t label) {
  RAIL_MODIFY(latest_ip(6), m->flow_label = label);
}
PacketBuilder& PacketBuilder::ihl(uint8_t words) {
  RAIL_MODIFY(latest_ip(4), m->ihl = words);
}
PacketBuilder& PacketBuilder::ip_version(uint8_t version) {
  RAIL_MODIFY(latest_ip(0), m->version = version);
}
PacketBuilder& PacketBuilder::ip_length(uint16_t length) {
  RAIL_MODIFY(latest_ip(0), m->length = length);
}
PacketBuilder& PacketBuilder::ip_checksum(uint16_t checksum) {
  RAIL_MODIFY(latest_ip(4), m->checksum = checksum);
}
PacketBuilder& PacketBuilder::protocol(uint8_t protocol) {
  RAIL_MODIFY(latest_ip(0), m->protocol = protocol);
}
PacketBuilder& PacketBuilder::hop_by_hop() {
  RAIL_MODIFY(latest_ip(6), m->ext.push_back({kIpProtoHopByHop, {}}));
}
PacketBuilder& PacketBuilder::routing_header() {
  RAIL_MODIFY(latest_ip(6), m->ext.push_back({kIpProtoRouting, {}}));
}
PacketBuilder& PacketBuilder::dest_options() {
  RAIL_MODIFY(latest_ip(6), m->ext.push_back({kIpProtoDestOpts, {}}));
}
PacketBuilder& PacketBuilder::fragment_header(uint16_t offset_units, bool more, uint32_t id) {
  Ipv6FragmentHeader f;
  f.frag_offset = offset_units;
  f.more_fragments = more;
  f.id = id;
  RAIL_MODIFY(latest_ip(6), m->ext.push_back({kIpProtoFragment, f}));
}

PacketBuilder& PacketBuilder::tcp(uint16_t src_port, uint16_t dst_port) {
  Tcp t;
  t.header.src_port = src_port;
  t.header.dst_port = dst_port;
  layers_.emplace_back(t);
  return *this;
}
PacketBuilder& PacketBuilder::syn() {
  RAIL_MODIFY(latest<Tcp>(), m->header.flags |= kTcpSyn);
}
PacketBuilder& PacketBuilder::ack() {
  RAIL_MODIFY(latest<Tcp>(), m->header.flags |= kTcpAck);
}
PacketBuilder& PacketBuilder::fin() {
  RAIL_MODIFY(latest<Tcp>(), m->header.flags |= kTcpFin);
}
PacketBuilder& PacketBuilder::rst() {
  RAIL_MODIFY(latest<Tcp>(), m->header.flags |= kTcpRst);
}
PacketBuilder& PacketBuilder::psh() {
  RAIL_MODIFY(latest<Tcp>(), m->header.flags |= kTcpPsh);
}
PacketBuilder& PacketBuilder::tcp_flags(uint8_t flags) {
  RAIL_MODIFY(latest<Tcp>(), m->header.flags = flags);
}
PacketBuilder& PacketBuilder::seq(uint32_t seq) {
  RAIL_MODIFY(latest<Tcp>(), m->header.seq = seq);
}
PacketBuilder& PacketBuilder::ack_number(uint32_t ack) {
  RAIL_MODIFY(latest<Tcp>(), m->header.ack = ack);
}
PacketBuilder& PacketBuilder::window(uint16_t window) {
  RAIL_MODIFY(latest<Tcp>(), m->header.window = window);
}

PacketBuilder& PacketBuilder::udp(uint16_t src_port, uint16_t dst_port) {
  Udp u;
  u.header.src_port = src_port;
  u.header.dst_port = dst_port;
  layers_.emplace_back(u);
  return *this;
}
PacketBuilder& PacketBuilder::udp_length(uint16_t length) {
  RAIL_MODIFY(latest<Udp>(), m->length = length);
}

PacketBuilder& PacketBuilder::icmp(uint8_t type, uint8_t code, uint32_t rest) {
  Icmp i;
  i.header.type = type;
  i.header.code = code;
  i.header.rest = rest;
  layers_.emplace_back(i);
  return *this;
}
PacketBuilder& PacketBuilder::icmp_echo_request(uint16_t id, uint16_t sequence) {
  return icmp(kIcmpEchoRequest, 0, uint32_t(id) << 16 | sequence);
}
PacketBuilder& PacketBuilder::icmp_echo_reply(uint16_t id, uint16_t sequence) {
  return icmp(kIcmpEchoReply, 0, uint32_t(id) << 16 | sequence);
}
PacketBuilder& PacketBuilder::icmp_frag_needed(uint16_t next_hop_mtu) {
  return icmp(kIcmpDestUnreachable, kIcmpCodeFragNeeded, next_hop_mtu);
}
PacketBuilder& PacketBuilder::icmpv6(uint8_t type, uint8_t code, uint32_t rest) {
  icmp(type, code, rest);
  std::get<Icmp>(layers_.back()).v6 = true;
  return *this;
}
PacketBuilder& PacketBuilder::icmpv6_echo_request(uint16_t id, uint16_t sequence) {
  return icmpv6(kIcmpv6EchoRequest, 0, uint32_t(id) << 16 | sequence);
}
PacketBuilder& PacketBuilder::icmpv6_echo_reply(uint16_t id, uint16_t sequence) {
  return icmpv6(kIcmpv6EchoReply, 0, uint32_t(id) << 16 | sequence);
}
PacketBuilder& PacketBuilder::icmpv6_packet_too_big(uint32_t mtu) {
  return icmpv6(kIcmpv6PacketTooBig, 0, mtu);
}
PacketBuilder& PacketBuilder::icmpv6_neighbor_solicitation(const IpAddress& target) {
  icmpv6(kIcmpv6NeighborSolicitation, 0, 0);
  return payload(std::span<const uint8_t>(target.data(), 16));
}
PacketBuilder& PacketBuilder::l4_checksum(uint16_t checksum) {
  RAIL_MODIFY(latest_l4_checksum(), *m = checksum);
}

PacketBuilder& PacketBuilder::gre() {
  layers_.emplace_back(Gre{});
  return *this;
}
PacketBuilder& PacketBuilder::gre_checksum() {
  RAIL_MODIFY(latest<Gre>(), m->header.has_checksum = true);
}
PacketBuilder& PacketBuilder::gre_key(uint32_t key) {
  RAIL_MODIFY(latest<Gre>(), (m->header.has_key = true, m->header.key = key));
}
PacketBuilder& PacketBuilder::gre_sequence(uint32_t seq) {
  RAIL_MODIFY(latest<Gre>(), (m->header.has_sequence = true, m->header.sequence = seq));
}
PacketBuilder& PacketBuilder::gre_protocol(uint16_t ethertype) {
  RAIL_MODIFY(latest<Gre>(), (m->header.protocol = ethertype, m->protocol_set = true));
}
PacketBuilder& PacketBuilder::gre_version(uint8_t version) {
  RAIL_MODIFY(latest<Gre>(), m->header.version = version);
}
PacketBuilder& PacketBuilder::gre_routing_bit() {
  RAIL_MODIFY(latest<Gre>(), m->header.has_routing = true);
}
PacketBuilder& PacketBuilder::gue(uint16_t src_port, uint16_t dst_port) {
  udp(src_port, dst_port);
  std::get<Udp>(layers_.back()).checksum = 0;
  return *this;
}

PacketBuilder& PacketBuilder::payload(std::string_view text) {
  return payload(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}
PacketBuilder& PacketBuilder::payload(std::span<const uint8_t> bytes) {
  layers_.emplace_back(Payload{{bytes.begin(), bytes.end()}});
  return *this;
}
PacketBuilder& PacketBuilder::pad(size_t zero_bytes) {
  pad_ += zero_bytes;
  return *this;
}
PacketBuilder& PacketBuilder::truncate(size_t length) {
  truncate_ = length;
  return *this;
}

#undef RAIL_MODIFY

const PacketBuilder::Ip* PacketBuilder::enclosing_ip(size_t index) const {
  for (size_t i = index; i-- > 0;) {
    if (auto* ip = std::get_if<Ip>(&layers_[i])) return ip;
  }
  return nullptr;
}

void PacketBuilder::encode(size_t index, std::vector<uint8_t>& inner) const {
  const Layer* next = index + 1 < layers_.size() ? &layers_[index + 1] : nullptr;
  const Ip* next_ip = next ? std::get_if<Ip>(next) : nullptr;
  std::vector<uint8_t> header;
  auto prepend = [&inner](const std::vector<uint8_t>& h) {
    inner.insert(inner.begin(), h.begin(), h.end());
  };
  // The IP protocol number / next header that announces `next`.
  auto next_protocol = [&](bool v6) -> uint8_t {
    if (next == nullptr || std::holds_alternative<Payload>(*next)) {
      return v6 ? kIpProtoNoNext : kIpProtoExperimental;
    }
    if (std::holds_alternative<Tcp>(*next)) return kIpProtoTcp;
    if (std::holds_alternative<Udp>(*next)) return kIpProtoUdp;
    if (auto* i = std::get_if<Icmp>(next)) return i->v6 ? kIpProtoIcmpv6 : kIpProtoIcmp;
    if (std::holds_alternative<Gre>(*next)) return kIpProtoGre;
    if (next_ip) return next_ip->src.is_v6() ? kIpProtoIpv6 : kIpProtoIpip;
    return kIpProtoExperimental;
  };
  auto next_ethertype = [&]() -> uint16_t {
    if (next_ip) return next_ip->src.is_v6() ? kEtherTypeIpv6 : kEtherTypeIpv4;
    return kEtherTypeExperimental;
  };
  // Checksum over a pseudo-header of the enclosing IP layer (none: 0) plus `segment`.
  auto pseudo_checksum = [&](uint8_t proto) -> uint16_t {
    const Ip* ip = enclosing_ip(index);
    if (ip == nullptr) return 0;
    return packet::l4_checksum(ip->src, ip->dst, proto, inner);
  };

  std::visit(
      [&](const auto& layer) {
        using T = std::decay_t<decltype(layer)>;
        if constexpr (std::is_same_v<T, Payload>) {
          inner.insert(inner.begin(), layer.bytes.begin(), layer.bytes.end());
        } else if constexpr (std::is_same_v<T, Eth>) {
          EthernetHeader h = layer.header;
          if (!layer.ethertype_set) h.ethertype = next_ethertype();
          header.resize(ethernet_size(h));
          write_ethernet(header, h);
          prepend(header);
        } else if constexpr (std::is_same_v<T, Gre>) {
          GreHeader h = layer.header;
          if (!layer.protocol_set) h.protocol = next_ethertype();
          h.checksum = 0;
          header.resize(gre_size(h));
          write_gre(header, h);
          prepend(header);
          if (h.has_checksum) {
            // RFC 2784 §2.5: over the GRE header and the payload, checksum field zero.
            store_be16(inner.data() + 4, internet_checksum(inner));
          }
        } else if constexpr (std::is_same_v<T, Tcp>) {
          TcpHeader h = layer.header;
          h.checksum = 0;
          header.resize(kTcpMinHeaderSize);
          write_tcp(header, h);
          prepend(header);
          store_be16(inner.data() + 16,
                     layer.checksum ? *layer.checksum : pseudo_checksum(kIpProtoTcp));
        } else if constexpr (std::is_same_v<T, Udp>) {
          UdpHeader h = layer.header;
          h.length = layer.length ? *layer.length : static_cast<uint16_t>(inner.size() + 8);
          h.checksum = 0;
          header.resize(kUdpHeaderSize);
          write_udp(header, h);
          prepend(header);
          uint16_t csum;
          if (layer.checksum) {
            csum = *layer.checksum;
          } else {
            csum = pseudo_checksum(kIpProtoUdp);
            if (csum == 0) csum = 0xFFFF;  // RFC 768: 0 means "no checksum"
          }
          store_be16(inner.data() + 6, csum);
        } else if constexpr (std::is_same_v<T, Icmp>) {
          IcmpHeader h = layer.header;
          h.checksum = 0;
          header.resize(kIcmpHeaderSize);
          write_icmp(header, h);
          prepend(header);
          uint16_t csum = layer.checksum ? *layer.checksum
                          : layer.v6     ? pseudo_checksum(kIpProtoIcmpv6)
                                         : internet_checksum(inner);
          store_be16(inner.data() + 2, csum);
        } else if constexpr (std::is_same_v<T, Ip>) {
          if (layer.src.is_v4()) {
            Ipv4Header h;
            h.ihl = layer.ihl ? *layer.ihl : static_cast<uint8_t>((20 + layer.options.size()) / 4);
            h.tos = layer.tos;
            h.total_length = layer.length
                                 ? *layer.length
                                 : static_cast<uint16_t>(20 + layer.options.size() + inner.size());
            h.id = layer.id;
            h.df = layer.df;
            h.mf = layer.mf;
            h.frag_offset = layer.frag_offset;
            h.ttl = layer.ttl;
            h.protocol = layer.protocol ? *layer.protocol : next_protocol(false);
            h.src = layer.src;
            h.dst = layer.dst;
            header.resize(20 + layer.options.size());
            write_ipv4(header, h, layer.options);
            if (layer.checksum) {
              store_be16(header.data() + 10, *layer.checksum);
            } else {
              fill_ipv4_checksum(header);
            }
            if (layer.version)
              header[0] = static_cast<uint8_t>(*layer.version << 4 | (header[0] & 0x0F));
            prepend(header);
          } else {
            // Extension headers first (innermost last), each announcing the one after it.
            uint8_t upper = next_protocol(true);
            for (size_t e = layer.ext.size(); e-- > 0;) {
              const Ipv6Ext& ext = layer.ext[e];
              std::vector<uint8_t> eh(8, 0);
              if (ext.type == kIpProtoFragment) {
                Ipv6FragmentHeader f = ext.fragment;
                f.next_header = upper;
                write_ipv6_fragment(eh, f);
              } else {
                eh[0] = upper;
                eh[1] = 0;  // 8 bytes in total
                if (ext.type == kIpProtoRouting) {
                  eh[2] = 253;  // RFC 4727 experimental routing type
                  eh[3] = 0;    // segments left
                } else {
                  eh[2] = 1;  // PadN option (RFC 8200 §4.2) covering the 6 option bytes
                  eh[3] = 4;
                }
              }
              prepend(eh);
              upper = ext.type;
            }
            Ipv6Header h;
            h.traffic_class = layer.tos;
            h.flow_label = layer.flow_label;
            h.payload_length = layer.length ? *layer.length : static_cast<uint16_t>(inner.size());
            h.next_header = layer.protocol ? *layer.protocol : upper;
            h.hop_limit = layer.ttl;
            h.src = layer.src;
            h.dst = layer.dst;
            header.resize(kIpv6HeaderSize);
            write_ipv6(header, h);
            if (layer.version)
              header[0] = static_cast<uint8_t>(*layer.version << 4 | (header[0] & 0x0F));
            prepend(header);
          }
        }
      },
      layers_[index]);
}

std::vector<uint8_t> PacketBuilder::build() const {
  assert(valid_ && "PacketBuilder modifier without a layer of its kind");
  std::vector<uint8_t> out;
  for (size_t i = layers_.size(); i-- > 0;) encode(i, out);
  out.insert(out.end(), pad_, 0);
  if (truncate_ && *truncate_ < out.size()) out.resize(*truncate_);
  return out;
}

}  // namespace rail::packet
