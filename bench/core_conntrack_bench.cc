// Benchmarks for the connection table at 1M entries: lookup hit, lookup miss, and insert at
// capacity (every insert evicts the least recently used flow).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/conntrack/conn_table.h"

namespace rail {
namespace {

constexpr size_t kCapacity = size_t{1} << 20;

FlowKey flow(uint32_t n) {
  // Client n: address in 198.18.0.0/15 and port from n, so 1M+ distinct flows.
  return FlowKey::from_wire_v4(RAIL_HTONL(0xC6120000u + (n >> 4)), RAIL_HTONL(0xCB007101u),
                               RAIL_HTONS(static_cast<uint16_t>(32768 + (n & 15))), RAIL_HTONS(443),
                               packet::kIpProtoTcp);
}

// A full table of flows 0..kCapacity-1, all inserted at time 0 (TCP timeout 300 s).
std::unique_ptr<ConnTable> full_table() {
  auto table = std::make_unique<ConnTable>(kCapacity, ConnTimeouts(), 0x1234);
  for (uint32_t n = 0; n < kCapacity; ++n) table->upsert(flow(n), {n % 1000}, 0);
  return table;
}

// Keys visited in a scattered order (odd stride), so lookups miss the CPU caches like real
// traffic over a 1M-flow table does.
constexpr uint32_t kStride = 40503;

void BM_ConnLookupHit(benchmark::State& state) {
  auto table = full_table();
  uint32_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->lookup(flow(n), 1));
    n = (n + kStride) & (kCapacity - 1);
  }
}
BENCHMARK(BM_ConnLookupHit)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_ConnLookupMiss(benchmark::State& state) {
  auto table = full_table();
  uint32_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->lookup(flow(kCapacity + n), 1));
    n = (n + kStride) & (kCapacity - 1);
  }
}
BENCHMARK(BM_ConnLookupMiss)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_ConnInsertEvicting(benchmark::State& state) {
  auto table = full_table();
  uint32_t n = kCapacity;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->upsert(flow(n), {n % 1000}, 1));
    ++n;
  }
  state.counters["evictions"] = static_cast<double>(table->stats().evictions);
}
BENCHMARK(BM_ConnInsertEvicting)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace rail
