// Benchmarks for the flow hash (IPv4, IPv6) and for hash + Maglev-table lookup.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/flow/flow_hash.h"

namespace rail {
namespace {

// 4096 distinct flows, cycled, so the benchmark hashes varied keys without cache misses.
std::vector<FlowKey> make_flows(bool v6) {
  std::mt19937 rng(1);
  std::vector<FlowKey> flows;
  for (int i = 0; i < 4096; ++i) {
    const uint16_t sport = static_cast<uint16_t>(32768 + rng() % 28232);
    if (v6) {
      std::array<uint8_t, 16> s{0x20, 0x01, 0x0d, 0xb8}, d{0x20, 0x01, 0x0d, 0xb8, 0, 1};
      for (int b = 8; b < 16; ++b) s[b] = static_cast<uint8_t>(rng());
      d[15] = 1;
      flows.push_back(FlowKey::make_v6(IpAddress::v6(s), IpAddress::v6(d), sport, 443, 6));
    } else {
      flows.push_back(FlowKey::make_v4(IpAddress::v4(0xC6120000u + rng() % 131072),
                                       IpAddress::v4(0xCB007101u), sport, 443, 6));
    }
  }
  return flows;
}

void BM_FlowHash(benchmark::State& state, bool v6) {
  const auto flows = make_flows(v6);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(flow_hash(flows[i], kHash5Tuple, kDefaultHashSeed));
    i = (i + 1) & 4095;
  }
}
BENCHMARK_CAPTURE(BM_FlowHash, v4, false)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK_CAPTURE(BM_FlowHash, v6, true)->Repetitions(5)->ReportAggregatesOnly(true);

// Hash, then index a 65537-entry Maglev table of backend ids (the per-packet backend choice).
void BM_FlowHashAndTableLookup(benchmark::State& state, bool v6) {
  const auto flows = make_flows(v6);
  constexpr uint32_t kTableSize = 65537;
  std::vector<uint32_t> table(kTableSize);
  for (uint32_t j = 0; j < kTableSize; ++j) table[j] = j % 1000;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        table[flow_hash(flows[i], kHash5Tuple, kDefaultHashSeed) % kTableSize]);
    i = (i + 1) & 4095;
  }
}
BENCHMARK_CAPTURE(BM_FlowHashAndTableLookup, v4, false)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK_CAPTURE(BM_FlowHashAndTableLookup, v6, true)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace rail
