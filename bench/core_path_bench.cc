// The per-packet budget: parse + flow hash + Maglev lookup, ~30 ns for Ethernet/IPv4/TCP.
//
// The chain is the forwarder's (core/forwarder/forwarder.cc, classify() then balance()):
// parse_l2 -> ethertype check -> parse_l3 -> bytes up to the datagram end -> parse_ipv6_ext
// (a no-op for IPv4) -> later-fragment check -> parse_l4 -> FlowKey::make from the parsed
// addresses and ports (flow_of) -> flow_hash (5-tuple, default seed) -> MaglevTable::lookup
// (1000 backends, M = 65537). Left out: the VIP/service/connection-table lookups, which are
// hash-table probes of their own (bench/core_conntrack_bench.cc).
//
// The frames cycle through 256 different clients (source address and port), so the hash and
// the table entry change every packet as on a real link; every frame is cache-resident.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/flow/flow_hash.h"
#include "core/maglev/maglev_table.h"
#include "core/packet/builder.h"
#include "core/packet/parser.h"

namespace rail {
namespace {

namespace pkt = rail::packet;

constexpr int kFrames = 256;  // a power of two: the loop indexes with a mask

const MacAddress kClientMac(std::array<uint8_t, 6>{2, 0, 0, 0, 0, 1});
const MacAddress kNodeMac(std::array<uint8_t, 6>{2, 0, 0, 0, 0, 2});

std::vector<std::vector<uint8_t>> tcp_frames(bool v6) {
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < kFrames; ++i) {
    const std::string client =
        v6 ? "2001:db8:1::" + std::to_string(i + 1)
           : "198.18." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1);
    const std::string vip = v6 ? "2001:db8::10" : "203.0.113.10";
    pkt::PacketBuilder b;
    b.eth(kClientMac, kNodeMac);
    if (v6) {
      b.ipv6(*IpAddress::parse(client), *IpAddress::parse(vip));
    } else {
      b.ipv4(*IpAddress::parse(client), *IpAddress::parse(vip)).df();
    }
    frames.push_back(b.tcp(static_cast<uint16_t>(40000 + i * 7), v6 ? 443 : 80)
                         .ack()
                         .payload(std::string(64, 'x'))
                         .build());
  }
  return frames;
}

MaglevTable bench_table() {
  std::vector<MaglevBackend> backends;
  for (int i = 0; i < 1000; ++i) backends.push_back({"backend-" + std::to_string(i), 1});
  return MaglevTable::build(backends).value();
}

// One packet through the chain; kNoBackend - 1 for anything the forwarder would not balance.
inline uint32_t parse_hash_lookup(std::span<const uint8_t> frame, const MaglevTable& table) {
  auto l2 = pkt::parse_l2(frame);
  if (!l2) return kNoBackend - 1;
  const uint16_t ethertype = l2->eth.ethertype;
  if (ethertype != pkt::kEtherTypeIpv4 && ethertype != pkt::kEtherTypeIpv6) return kNoBackend - 1;
  auto l3 = pkt::parse_l3(frame, l2->l3_offset, ethertype);
  if (!l3) return kNoBackend - 1;
  const std::span<const uint8_t> bytes = frame.first(l3->end);
  if (pkt::parse_ipv6_ext(bytes, *l3) != pkt::ParseError::kNone) return kNoBackend - 1;
  const uint8_t proto = l3->protocol;
  if (proto != pkt::kIpProtoTcp && proto != pkt::kIpProtoUdp) return kNoBackend - 1;
  if (l3->is_later_fragment()) return kNoBackend - 1;
  auto l4 = pkt::parse_l4(bytes, *l3);
  if (!l4) return kNoBackend - 1;
  auto key = FlowKey::make(l3->src, l3->dst, l4->src_port, l4->dst_port, proto);
  if (!key) return kNoBackend - 1;
  return table.lookup(flow_hash(*key, kHash5Tuple, kDefaultHashSeed));
}

void run_path(benchmark::State& state, bool v6) {
  const std::vector<std::vector<uint8_t>> frames = tcp_frames(v6);
  const MaglevTable table = bench_table();
  // Every frame must take the whole chain (not an early exit).
  for (const auto& frame : frames) {
    if (parse_hash_lookup(frame, table) >= table.eligible_count()) {
      state.SkipWithError("a bench frame did not reach the Maglev lookup");
      return;
    }
  }
  unsigned i = 0;
  for (auto _ : state) {
    const std::vector<uint8_t>& frame = frames[i++ & (kFrames - 1)];
    benchmark::DoNotOptimize(parse_hash_lookup(frame, table));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PathParseHashLookupIpv4Tcp(benchmark::State& state) {
  run_path(state, false);
}
BENCHMARK(BM_PathParseHashLookupIpv4Tcp)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_PathParseHashLookupIpv6Tcp(benchmark::State& state) {
  run_path(state, true);
}
BENCHMARK(BM_PathParseHashLookupIpv6Tcp)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace rail
