// The reference forwarder's per-packet logic: docs/packet-path.md, section by section.
#include "core/forwarder/forwarder.h"

#include "core/flow/flow_hash.h"
#include "core/forwarder/encap.h"
#include "core/forwarder/icmp_reply.h"
#include "core/packet/parser.h"

namespace rail {
namespace {

using namespace rail::packet;

Verdict drop(rail_drop_reason reason) {
  Verdict v;
  v.action = RAIL_VERDICT_DROP;
  v.reason = reason;
  return v;
}

Verdict pass() {
  return Verdict{};
}

Verdict tx() {
  Verdict v;
  v.action = RAIL_VERDICT_TX;
  return v;
}

bool is_icmp_error(bool v6, uint8_t type) {
  if (v6) {
    return type == kIcmpv6DestUnreachable || type == kIcmpv6PacketTooBig ||
           type == kIcmpv6TimeExceeded || type == kIcmpv6ParameterProblem;
  }
  return type == kIcmpDestUnreachable || type == kIcmpTimeExceeded || type == kIcmpParameterProblem;
}

FlowKey flow_of(const L3Info& l3, uint8_t proto, uint16_t sport, uint16_t dport) {
  auto key = FlowKey::make(l3.src, l3.dst, sport, dport, proto);
  return key ? *key : FlowKey();  // parse guarantees one family; never the fallback
}

constexpr uint32_t kPortFields = RAIL_HASH_SRC_PORT | RAIL_HASH_DST_PORT;

}  // namespace

struct Forwarder::Packet {
  std::span<const uint8_t> frame;
  std::span<const uint8_t> bytes;  // frame up to the end of the outermost IP datagram
  uint64_t now = 0;
  L2Info l2;
  L3Info l3;  // the packet being balanced (the inner one for GRE ingress)
  L4Info l4;
};

Forwarder::Forwarder(ForwarderOptions options)
    : state_(std::make_unique<ForwarderState>()),
      conns_(options.conn_capacity, options.conn_timeouts),
      frags_(options.frag_capacity, options.frag_timeout_ns) {}

Status Forwarder::apply(const LbConfig& config) {
  BackendIds ids = ids_;  // commit the id registry only if the whole state builds
  auto built = ForwarderState::build(config, ids);
  if (!built) return built.error();
  ids_ = std::move(ids);
  state_ = std::make_unique<ForwarderState>(std::move(*built));
  return ok();
}

Verdict Forwarder::process(std::span<const uint8_t> frame, uint64_t now_ns,
                           std::vector<uint8_t>& out) {
  Packet p;
  p.frame = frame;
  p.now = now_ns;
  return count(classify(p, out), frame.size());
}

// §2: L2, L3, GRE ingress, VIP check.
Verdict Forwarder::classify(Packet& p, std::vector<uint8_t>& out) {
  auto l2 = parse_l2(p.frame);
  if (!l2) return drop(RAIL_DROP_MALFORMED_L2);
  p.l2 = *l2;
  const uint16_t ethertype = p.l2.eth.ethertype;
  if (ethertype != kEtherTypeIpv4 && ethertype != kEtherTypeIpv6) return pass();
  auto l3 = parse_l3(p.frame, p.l2.l3_offset, ethertype);
  if (!l3) return drop(drop_reason(l3.error()));
  p.bytes = p.frame.first(l3->end);
  p.l3 = *l3;

  if (state_->is_ingress(p.l3.dst)) {
    if (parse_ipv6_ext(p.bytes, p.l3) != ParseError::kNone) return drop(RAIL_DROP_MALFORMED_L3);
    if (p.l3.protocol == kIpProtoGre) {
      if (p.l3.is_fragment()) return drop(RAIL_DROP_UNSUPPORTED_ENCAP);
      auto gre = parse_gre(p.bytes, p.l3.l4_offset);
      if (!gre) return drop(drop_reason(gre.error()));
      auto inner = parse_gre_inner(p.bytes, *gre);
      if (!inner) return drop(drop_reason(inner.error()));
      if (!state_->is_vip(inner->dst)) return pass();
      ++counters_[RAIL_CNT_GRE_INGRESS];
      p.l3 = *inner;
      return balance(p, out);
    }
  }
  if (!state_->is_vip(p.l3.dst)) return pass();
  return balance(p, out);
}

// §2.5-§4: protocol dispatch, service, backend.
Verdict Forwarder::balance(Packet& p, std::vector<uint8_t>& out) {
  if (parse_ipv6_ext(p.bytes, p.l3) != ParseError::kNone) return drop(RAIL_DROP_MALFORMED_L3);
  const bool v6 = p.l3.family == IpAddress::Family::kV6;
  const uint8_t proto = p.l3.protocol;
  const NodeSettings& node = state_->node();

  if (proto == (v6 ? kIpProtoIcmpv6 : kIpProtoIcmp)) {
    if (p.l3.is_fragment()) return pass();  // fragmented ICMP to a VIP: the host's business
    auto l4 = parse_l4(p.bytes, p.l3);
    if (!l4) return drop(RAIL_DROP_MALFORMED_L4);
    p.l4 = *l4;
    const uint8_t echo_request = v6 ? kIcmpv6EchoRequest : kIcmpEchoRequest;
    if (p.l4.icmp_type == echo_request) {
      if (!node.icmp_echo) return drop(RAIL_DROP_ICMP_ECHO);
      if (v6 && p.l3.ext_header_count != 0) return pass();
      write_echo_reply(p.l2, p.bytes.subspan(p.l3.offset, p.l3.length()), p.l3, p.l4, out);
      ++counters_[RAIL_CNT_ICMP_ECHO_SENT];
      return tx();
    }
    if (is_icmp_error(v6, p.l4.icmp_type)) return steer_icmp_error(p, out);
    return pass();
  }
  if (proto != kIpProtoTcp && proto != kIpProtoUdp) return drop(RAIL_DROP_NO_SERVICE);

  if (p.l3.is_later_fragment()) {
    // §4: no ports here. Follow the first fragment if it was seen, else hash what there is.
    const FlowKey three = flow_of(p.l3, proto, 0, 0);
    const FragKey fkey = FragKey::of(three, p.l3.frag_id);
    const ServiceState* svc = nullptr;
    uint32_t backend = kNoId;
    if (const FragEntry* hit = frags_.lookup(fkey, p.now)) {
      if (hit->service_index < state_->services().size() &&
          usable(hit->backend_id, state_->services()[hit->service_index], true)) {
        svc = &state_->services()[hit->service_index];
        backend = hit->backend_id;
        ++counters_[RAIL_CNT_FRAG_HIT];
      }
    }
    if (svc == nullptr) svc = state_->fragment_service(p.l3.dst, proto);
    if (svc == nullptr) return drop(RAIL_DROP_NO_SERVICE);
    const uint32_t hash = flow_hash(three, svc->config.hash_fields & ~kPortFields, node.hash_seed);
    if (backend == kNoId) {
      backend = pick_backend(*svc, hash);
      if (backend == kNoId) return drop(RAIL_DROP_NO_BACKEND);
      ++counters_[RAIL_CNT_FRAG_FALLBACK];
    }
    return send_to_backend(p, *svc, backend, hash, out);
  }

  auto l4 = parse_l4(p.bytes, p.l3);
  if (!l4) return drop(RAIL_DROP_MALFORMED_L4);
  p.l4 = *l4;
  const ServiceState* svc = state_->find_service(p.l3.dst, proto, p.l4.dst_port);
  if (svc == nullptr) return drop(RAIL_DROP_NO_SERVICE);
  const FlowKey key = flow_of(p.l3, proto, p.l4.src_port, p.l4.dst_port);
  const uint32_t hash = flow_hash(key, svc->config.hash_fields, node.hash_seed);
  const bool syn =
      proto == kIpProtoTcp && (p.l4.tcp_flags & kTcpSyn) && !(p.l4.tcp_flags & kTcpAck);

  uint32_t backend = kNoId;
  bool new_flow = false;
  if (!syn) {
    if (const ConnEntry* hit = conns_.lookup(key, p.now)) {
      if (usable(hit->backend_id, *svc, /*allow_drained=*/true)) {
        backend = hit->backend_id;
        ++counters_[RAIL_CNT_CONN_HITS];
      }
    }
  }
  if (backend == kNoId) {
    backend = pick_backend(*svc, hash);
    if (backend == kNoId) return drop(RAIL_DROP_NO_BACKEND);
    conns_.upsert(key, ConnEntry{backend}, p.now);
    new_flow = true;
  }
  if (p.l3.is_fragment()) {  // first fragment: later ones follow it (§4)
    frags_.upsert(FragKey::of(key, p.l3.frag_id), FragEntry{svc->service_id, backend}, p.now);
    ++counters_[RAIL_CNT_FRAG_FIRST];
  }
  Verdict v = send_to_backend(p, *svc, backend, hash, out);
  v.new_flow = new_flow;
  return v;
}

// §5: an ICMP error about a reply that left from a VIP goes to the backend of that flow.
Verdict Forwarder::steer_icmp_error(Packet& p, std::vector<uint8_t>& out) {
  auto quote = parse_icmp_quote(p.bytes, p.l4.offset + kIcmpHeaderSize, p.l3.family);
  if (!quote || quote->src != p.l3.dst ||
      (quote->protocol != kIpProtoTcp && quote->protocol != kIpProtoUdp))
    return drop(RAIL_DROP_ICMP_UNMATCHED);
  const ServiceState* svc = state_->find_service(p.l3.dst, quote->protocol, quote->src_port);
  if (svc == nullptr) return drop(RAIL_DROP_ICMP_UNMATCHED);
  auto key =
      FlowKey::make(quote->dst, quote->src, quote->dst_port, quote->src_port, quote->protocol);
  if (!key) return drop(RAIL_DROP_ICMP_UNMATCHED);
  const uint32_t hash = flow_hash(*key, svc->config.hash_fields, state_->node().hash_seed);
  uint32_t backend = kNoId;
  if (const ConnEntry* hit = conns_.peek(*key, p.now)) {
    if (usable(hit->backend_id, *svc, /*allow_drained=*/true)) backend = hit->backend_id;
  }
  if (backend == kNoId) backend = pick_backend(*svc, hash);
  if (backend == kNoId) return drop(RAIL_DROP_NO_BACKEND);
  ++counters_[RAIL_CNT_ICMP_ERR_STEERED];
  return send_to_backend(p, *svc, backend, hash, out);
}

// §6-§7: encapsulate towards the backend, or answer "too big".
Verdict Forwarder::send_to_backend(Packet& p, const ServiceState& service, uint32_t backend_id,
                                   uint32_t flow_hash, std::vector<uint8_t>& out) {
  const BackendSlot* slot = state_->backend(backend_id);
  if (slot == nullptr) return drop(RAIL_DROP_NO_BACKEND);
  if (slot->next_hop_mac.is_zero()) return drop(RAIL_DROP_NO_NEXTHOP);
  const NodeSettings& node = state_->node();
  const std::span<const uint8_t> ip_packet = p.bytes.subspan(p.l3.offset, p.l3.length());
  const uint32_t overhead = encap_overhead(service.config.encap, slot->address.is_v6());
  if (overhead != 0 && overhead + ip_packet.size() > node.mtu) {
    if (p.l3.family == IpAddress::Family::kV4 && !p.l3.df) return drop(RAIL_DROP_TOO_BIG_NO_DF);
    write_too_big(p.l2, ip_packet, p.l3, node.mtu - overhead, out);
    ++counters_[RAIL_CNT_ICMP_TOO_BIG_SENT];
    Verdict v = tx();
    v.service_id = service.service_id;
    return v;
  }
  EncapRequest request;
  request.node = &node;
  request.encap = service.config.encap;
  request.backend = slot;
  request.flow_hash = flow_hash;
  request.l2 = &p.l2;
  request.inner = ip_packet;
  request.inner_v6 = p.l3.family == IpAddress::Family::kV6;
  request.inner_tos = p.l3.tos;
  write_encapsulated(request, out);
  Verdict v = tx();
  v.service_id = service.service_id;
  v.backend_id = backend_id;
  return v;
}

uint32_t Forwarder::pick_backend(const ServiceState& service, uint32_t flow_hash) const {
  const uint32_t index = service.table.lookup(flow_hash);
  return index == kNoBackend ? kNoId : service.backend_ids[index];
}

bool Forwarder::usable(uint32_t backend_id, const ServiceState& service, bool allow_drained) const {
  const BackendSlot* slot = state_->backend(backend_id);
  if (slot == nullptr || slot->service_id != service.service_id) return false;
  return slot->state == BackendState::kUp ||
         (allow_drained && slot->state == BackendState::kDrained);
}

Verdict Forwarder::count(const Verdict& v, size_t frame_bytes) {
  ++counters_[RAIL_CNT_RX];
  switch (v.action) {
    case RAIL_VERDICT_PASS:
      ++counters_[RAIL_CNT_PASS];
      break;
    case RAIL_VERDICT_TX:
      ++counters_[RAIL_CNT_TX];
      break;
    case RAIL_VERDICT_DROP:
      ++counters_[RAIL_CNT_DROP];
      ++counters_[rail_drop_counter(v.reason)];
      break;
  }
  if (v.new_flow) ++counters_[RAIL_CNT_NEW_FLOWS];
  if (v.service_id != kNoId) {
    TrafficCounters& s = service_traffic_[v.service_id];
    ++s.packets;
    s.bytes += frame_bytes;
    s.new_flows += v.new_flow;
  }
  if (v.backend_id != kNoId) {
    TrafficCounters& b = backend_traffic_[v.backend_id];
    ++b.packets;
    b.bytes += frame_bytes;
    b.new_flows += v.new_flow;
  }
  return v;
}

}  // namespace rail
