// The golden cases' cast and frame helpers (see golden_world.h).
#include "golden/golden_world.h"

#include <cstdio>
#include <cstdlib>

#include "core/flow/flow_hash.h"

namespace rail::golden {

using namespace rail::packet;

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  if (!a) {
    std::fprintf(stderr, "golden fixture: %s\n", a.error().message.c_str());
    std::abort();
  }
  return *a;
}

MacAddress mac(std::string_view text) {
  auto m = MacAddress::parse(text);
  if (!m) {
    std::fprintf(stderr, "golden fixture: %s\n", m.error().message.c_str());
    std::abort();
  }
  return *m;
}

IpAddress b(int n) {
  return IpAddress::v4(0xC6120200u + uint32_t(n));
}

IpAddress c(int n) {
  auto a = ip("2001:db8:2::").bytes();
  a[15] = uint8_t(n);
  return IpAddress::v6(a);
}

MacAddress mac_of(const IpAddress& backend) {
  const uint8_t last = backend.is_v4() ? backend.bytes()[3] : backend.bytes()[15];
  return MacAddress({0x02, 0, 0, 0, uint8_t(backend.is_v4() ? 0x0d : 0x0e), last});
}

namespace {

Backend backend(const IpAddress& address) {
  Backend be;
  be.address = address;
  be.next_hop_mac = mac_of(address);
  return be;
}

Service make_service(const IpAddress& vip, Protocol proto, uint16_t port, Encap encap,
                     std::vector<IpAddress> backends, uint32_t fields = RAIL_HASH_5TUPLE) {
  Service s;
  s.vip = vip;
  s.protocol = proto;
  s.port = port;
  s.encap = encap;
  s.hash_fields = fields;
  s.table_size = kTableSize;
  for (const IpAddress& a : backends) s.backends.push_back(backend(a));
  return s;
}

}  // namespace

LbConfig sample_config() {
  LbConfig config;
  config.node.mac = kNodeMac;
  config.node.outer_source_v4 = kNode4;
  config.node.outer_source_v6 = kNode6;
  config.node.ingress_addresses = {kNode4, kNode6};
  config.node.mtu = kMtu;
  const std::vector<IpAddress> v4 = {b(1), b(2), b(3), b(4)};
  const std::vector<IpAddress> v6 = {c(1), c(2), c(3), c(4)};
  config.services = {
      make_service(kWeb4, Protocol::kTcp, 80, Encap::kGre, v4),
      make_service(kWeb4, Protocol::kUdp, 0, Encap::kIpip, v4),
      make_service(kGue4, Protocol::kTcp, 443, Encap::kGue, v4),
      make_service(kL2Vip4, Protocol::kTcp, 0, Encap::kL2, v4),
      make_service(kSticky4, Protocol::kTcp, 80, Encap::kGre, v4, RAIL_HASH_SRC_AFFINITY),
      make_service(kWeb6, Protocol::kTcp, 80, Encap::kGre, v6),
      make_service(kWeb6, Protocol::kUdp, 53, Encap::kIpip, v6),
      make_service(kMixed6, Protocol::kTcp, 80, Encap::kGre, v4),
  };
  return config;
}

Service& service(LbConfig& config, const IpAddress& vip, Protocol proto, uint16_t port) {
  for (Service& s : config.services)
    if (s.vip == vip && s.protocol == proto && s.port == port) return s;
  std::fprintf(stderr, "golden fixture: no service %s:%u\n", vip.to_string().c_str(), port);
  std::abort();
}

Bytes from_router(const Bytes& ip_packet, uint16_t vlan_tci) {
  PacketBuilder f;
  f.eth(kRouterMac, kNodeMac);
  if (vlan_tci) f.vlan(vlan_tci);
  const bool v6 = !ip_packet.empty() && (ip_packet[0] >> 4) == 6;
  return f.ethertype(v6 ? kEtherTypeIpv6 : kEtherTypeIpv4).payload(ip_packet).build();
}

Bytes gre_from_router(const Bytes& ip_packet) {
  const bool v6 = (ip_packet[0] >> 4) == 6;
  return PacketBuilder()
      .eth(kRouterMac, kNodeMac)
      .ipv4(ip("198.18.1.254"), kNode4)
      .gre()
      .gre_protocol(v6 ? kEtherTypeIpv6 : kEtherTypeIpv4)
      .payload(ip_packet)
      .build();
}

namespace {

// Ethernet + outer IP towards `be`, as the forwarder writes them (docs/packet-path.md §6).
PacketBuilder outer(const IpAddress& be, uint32_t flow_hash, uint8_t tos, uint16_t vlan_tci) {
  PacketBuilder f;
  f.eth(kNodeMac, mac_of(be));
  if (vlan_tci) f.vlan(vlan_tci);
  if (be.is_v4()) {
    f.ipv4(kNode4, be).df().tos(tos);
  } else {
    f.ipv6(kNode6, be).tos(tos).flow_label(flow_hash & 0xfffff);
  }
  return f;
}

uint16_t ethertype_of(const Bytes& ip_packet) {
  return (ip_packet[0] >> 4) == 6 ? kEtherTypeIpv6 : kEtherTypeIpv4;
}

uint8_t tos_of(const Bytes& p) {
  return (p[0] >> 4) == 6 ? uint8_t((p[0] & 0x0f) << 4 | p[1] >> 4) : p[1];
}

}  // namespace

Bytes gre_to(const IpAddress& be, const Bytes& ip_packet, uint32_t flow_hash, uint16_t vlan_tci) {
  return outer(be, flow_hash, tos_of(ip_packet), vlan_tci)
      .gre()
      .gre_protocol(ethertype_of(ip_packet))
      .payload(ip_packet)
      .build();
}

Bytes ipip_to(const IpAddress& be, const Bytes& ip_packet, uint32_t flow_hash) {
  const bool v6 = ethertype_of(ip_packet) == kEtherTypeIpv6;
  return outer(be, flow_hash, tos_of(ip_packet), 0)
      .protocol(v6 ? kIpProtoIpv6 : kIpProtoIpip)
      .payload(ip_packet)
      .build();
}

Bytes gue_to(const IpAddress& be, const Bytes& ip_packet, uint32_t flow_hash) {
  return outer(be, flow_hash, tos_of(ip_packet), 0)
      .gue(uint16_t(0xC000 | (flow_hash & 0x3FFF)), kGueDefaultPort)
      .payload(ip_packet)
      .build();
}

Bytes l2_to(const IpAddress& be, const Bytes& ip_packet) {
  return PacketBuilder()
      .eth(kNodeMac, mac_of(be))
      .ethertype(ethertype_of(ip_packet))
      .payload(ip_packet)
      .build();
}

PacketBuilder tcp4(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport) {
  PacketBuilder p;
  p.ipv4(src, dst).tcp(sport, dport);
  return p;
}
PacketBuilder tcp6(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport) {
  PacketBuilder p;
  p.ipv6(src, dst).tcp(sport, dport);
  return p;
}
PacketBuilder udp4(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport) {
  PacketBuilder p;
  p.ipv4(src, dst).udp(sport, dport);
  return p;
}
PacketBuilder udp6(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport) {
  PacketBuilder p;
  p.ipv6(src, dst).udp(sport, dport);
  return p;
}

uint32_t hash_of(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport,
                 uint8_t proto, uint32_t fields) {
  auto key = FlowKey::make(src, dst, sport, dport, proto);
  return key ? flow_hash(*key, fields, RAIL_DEFAULT_HASH_SEED) : 0;
}

}  // namespace rail::golden
