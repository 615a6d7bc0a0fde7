// FlowKey construction, accessors and text form.
#include "core/flow/flow_key.h"

#include <array>
#include <cassert>

namespace rail {
namespace {

FlowKey with_ports_proto(FlowKey key, uint16_t sport_be, uint16_t dport_be, uint8_t proto) {
  key.raw.sport = sport_be;
  key.raw.dport = dport_be;
  key.raw.proto = proto;
  return key;
}

IpAddress address_of(const rail_flow_key& raw, const __u32 (&words)[4]) {
  if (raw.family == RAIL_AF_INET) {
    std::array<uint8_t, 4> b;
    std::memcpy(b.data(), &words[0], 4);
    return IpAddress::v4(b);
  }
  std::array<uint8_t, 16> b;
  std::memcpy(b.data(), words, 16);
  return IpAddress::v6(b);
}

}  // namespace

FlowKey FlowKey::from_wire_v4(uint32_t saddr_be, uint32_t daddr_be, uint16_t sport_be,
                              uint16_t dport_be, uint8_t proto) {
  FlowKey key;
  key.raw.family = RAIL_AF_INET;
  key.raw.src[0] = saddr_be;
  key.raw.dst[0] = daddr_be;
  return with_ports_proto(key, sport_be, dport_be, proto);
}

FlowKey FlowKey::from_wire_v6(const uint8_t* saddr, const uint8_t* daddr, uint16_t sport_be,
                              uint16_t dport_be, uint8_t proto) {
  FlowKey key;
  key.raw.family = RAIL_AF_INET6;
  std::memcpy(key.raw.src, saddr, 16);
  std::memcpy(key.raw.dst, daddr, 16);
  return with_ports_proto(key, sport_be, dport_be, proto);
}

FlowKey FlowKey::make_v4(const IpAddress& src, const IpAddress& dst, uint16_t sport, uint16_t dport,
                         uint8_t proto) {
  assert(src.is_v4() && dst.is_v4());
  uint32_t s, d;
  std::memcpy(&s, src.data(), 4);
  std::memcpy(&d, dst.data(), 4);
  return from_wire_v4(s, d, RAIL_HTONS(sport), RAIL_HTONS(dport), proto);
}

FlowKey FlowKey::make_v6(const IpAddress& src, const IpAddress& dst, uint16_t sport, uint16_t dport,
                         uint8_t proto) {
  assert(src.is_v6() && dst.is_v6());
  return from_wire_v6(src.data(), dst.data(), RAIL_HTONS(sport), RAIL_HTONS(dport), proto);
}

Result<FlowKey> FlowKey::make(const IpAddress& src, const IpAddress& dst, uint16_t sport,
                              uint16_t dport, uint8_t proto) {
  if (src.family() != dst.family())
    return make_error(
        ErrorCode::kInvalidArgument,
        "flow " + src.to_string() + " -> " + dst.to_string() + " mixes IPv4 and IPv6 addresses");
  return src.is_v4() ? make_v4(src, dst, sport, dport, proto)
                     : make_v6(src, dst, sport, dport, proto);
}

IpAddress FlowKey::src() const {
  return address_of(raw, raw.src);
}
IpAddress FlowKey::dst() const {
  return address_of(raw, raw.dst);
}

FlowKey FlowKey::reversed() const {
  FlowKey r = *this;
  std::memcpy(r.raw.src, raw.dst, sizeof(raw.dst));
  std::memcpy(r.raw.dst, raw.src, sizeof(raw.src));
  r.raw.sport = raw.dport;
  r.raw.dport = raw.sport;
  return r;
}

FlowKey FlowKey::without_ports() const {
  FlowKey r = *this;
  r.raw.sport = 0;
  r.raw.dport = 0;
  return r;
}

std::string ip_proto_name(uint8_t proto) {
  switch (proto) {
    case packet::kIpProtoTcp:
      return "tcp";
    case packet::kIpProtoUdp:
      return "udp";
    case packet::kIpProtoIcmp:
      return "icmp";
    case packet::kIpProtoIcmpv6:
      return "icmpv6";
  }
  return "proto-" + std::to_string(proto);
}

std::string FlowKey::to_string() const {
  auto endpoint = [this](const IpAddress& a, uint16_t port) {
    std::string text = is_v6() ? "[" + a.to_string() + "]" : a.to_string();
    return text + ":" + std::to_string(port);
  };
  return ip_proto_name(raw.proto) + " " + endpoint(src(), src_port()) + " -> " +
         endpoint(dst(), dst_port());
}

}  // namespace rail
