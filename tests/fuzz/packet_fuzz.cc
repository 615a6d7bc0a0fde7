// libFuzzer target: arbitrary bytes into every packet parser entry point, checking that each
// result stays inside the input (ASan/UBSan catch reads outside it). Built by run.sh with
// clang++ -fsanitize=fuzzer,address,undefined.
//
// To fuzz another entry point (e.g. the reference forwarder), write a `void f(Bytes)` that
// traps on a broken invariant and add one line to kEntryPoints.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/forwarder/forwarder.h"
#include "core/packet/parser.h"
#include "golden/golden_world.h"

namespace {

using rail::IpAddress;
using Bytes = std::span<const uint8_t>;
namespace pkt = rail::packet;

void require(bool invariant) {
  if (!invariant) __builtin_trap();
}

void fuzz_parse_frame(Bytes in) {
  auto r = pkt::parse_frame(in);
  if (!r) {
    require(r.error() != pkt::ParseError::kNone);
    require(pkt::drop_reason(r.error()) != RAIL_DROP_NONE);
    return;
  }
  const pkt::ParsedFrame& f = *r;
  require(f.l2.l3_offset <= in.size());
  if (!f.has_l3) return;
  require(f.l3.offset == f.l2.l3_offset);
  require(f.l3.offset + f.l3.header_length <= f.l3.end && f.l3.end <= in.size());
  require(f.l3.l4_offset <= f.l3.end && f.l3.ext_walked);
  require(f.l3.ext_header_count <= pkt::kIpv6MaxExtHeaders);
  if (!f.has_l4) {
    require(f.l3.is_later_fragment());
    return;
  }
  if (f.l4.protocol == pkt::kIpProtoTcp) require(f.l4.offset + 20 <= f.l3.end);
  if (f.l4.has_ports || f.l4.is_icmp) require(f.l4.offset + 8 <= f.l3.end);
}

// The forwarder's order for an IP packet without Ethernet (the inside of GRE): L3, GRE, inner.
void fuzz_layers_from_l3(Bytes in) {
  for (uint16_t ethertype : {pkt::kEtherTypeIpv4, pkt::kEtherTypeIpv6}) {
    auto l3 = pkt::parse_l3(in, 0, ethertype);
    if (!l3) continue;
    require(l3->end <= in.size());
    Bytes datagram = in.first(l3->end);
    auto gre = pkt::parse_gre(datagram, l3->l4_offset);
    if (gre) {
      require(gre->payload_offset <= datagram.size());
      auto inner = pkt::parse_gre_inner(datagram, *gre);
      if (inner) require(inner->end <= datagram.size());
    }
    if (pkt::parse_ipv6_ext(in, *l3) != pkt::ParseError::kNone) continue;
    require(l3->l4_offset <= l3->end);
    if (l3->is_later_fragment()) continue;
    auto l4 = pkt::parse_l4(in, *l3);
    if (!l4) continue;
    auto gue = pkt::parse_gue(datagram, l4->offset + 8);
    if (gue) require(gue->payload_offset <= datagram.size());
    auto quote = pkt::parse_icmp_quote(datagram, l4->offset + 8, l3->family);
    if (quote) require(quote->l4_offset + 8 <= datagram.size());
  }
}

// The ICMP quote and GUE parsers at every small offset of the raw input.
void fuzz_quote_and_gue(Bytes in) {
  for (size_t off = 0; off < 4; ++off) {
    for (auto family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
      auto q = pkt::parse_icmp_quote(in, off, family);
      if (q) require(q->l4_offset + 8 <= in.size() && q->family == family);
    }
    auto g = pkt::parse_gue(in, off);
    if (g) require(g->payload_offset <= in.size());
  }
}

// The reference forwarder with the golden cases' config: any bytes in -> a verdict; TX output
// is a whole frame no bigger than the input plus the largest encapsulation (or an ICMP reply);
// DROP always carries a reason; PASS and DROP write nothing.
void fuzz_forwarder(Bytes data) {
  static rail::Forwarder* forwarder = [] {
    auto* f = new rail::Forwarder();
    require(f->apply(rail::golden::sample_config()).has_value());
    return f;
  }();
  static uint64_t now = 0;
  std::vector<uint8_t> out;
  const rail::Verdict v = forwarder->process(data, now += 1000, out);
  switch (v.action) {
    case RAIL_VERDICT_TX:
      require(out.size() >= 14 && out.size() <= data.size() + 64 + 18 + 40 + 8 + 200);
      break;
    case RAIL_VERDICT_DROP:
      require(v.reason > RAIL_DROP_NONE && v.reason < RAIL_DROP_REASON_MAX && out.empty());
      break;
    case RAIL_VERDICT_PASS:
      require(out.empty());
      break;
    default:
      require(false);
  }
}

constexpr void (*kEntryPoints[])(Bytes) = {
    fuzz_forwarder,
    fuzz_parse_frame,
    fuzz_layers_from_l3,
    fuzz_quote_and_gue,
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (auto entry : kEntryPoints) entry(Bytes(data, size));
  return 0;
}
