// Benchmarks for Maglev table build (rebuilt on every health change) and lookup.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/maglev/maglev_table.h"

namespace rail {
namespace {

std::vector<MaglevBackend> bench_backends(int64_t count) {
  std::vector<MaglevBackend> backends;
  for (int64_t i = 0; i < count; ++i) backends.push_back({"backend-" + std::to_string(i), 1});
  return backends;
}

// Args: {number of backends N, table size M}. Includes hashing identities and sorting.
void BM_MaglevBuild(benchmark::State& state) {
  const std::vector<MaglevBackend> backends = bench_backends(state.range(0));
  const uint32_t table_size = static_cast<uint32_t>(state.range(1));
  for (auto _ : state) {
    Result<MaglevTable> table = MaglevTable::build(backends, table_size);
    benchmark::DoNotOptimize(table);
  }
}
BENCHMARK(BM_MaglevBuild)
    ->ArgsProduct({{10, 100, 1000, 5000}, {65537, 655373}})
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

// Weighted build: weights cycle 1..4 over N = 1000 backends.
void BM_MaglevBuildWeighted(benchmark::State& state) {
  std::vector<MaglevBackend> backends = bench_backends(1000);
  for (size_t i = 0; i < backends.size(); ++i) backends[i].weight = 1 + i % 4;
  const uint32_t table_size = static_cast<uint32_t>(state.range(0));
  for (auto _ : state) {
    Result<MaglevTable> table = MaglevTable::build(backends, table_size);
    benchmark::DoNotOptimize(table);
  }
}
BENCHMARK(BM_MaglevBuildWeighted)
    ->Arg(65537)
    ->Arg(655373)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

// Lookup of pseudo-random hashes (a multiplicative sequence) in a 1000-backend table.
void BM_MaglevLookup(benchmark::State& state) {
  const MaglevTable table =
      MaglevTable::build(bench_backends(1000), static_cast<uint32_t>(state.range(0))).value();
  uint32_t hash = 0x12345678;
  for (auto _ : state) {
    hash = hash * 2654435761u + 1;
    benchmark::DoNotOptimize(table.lookup(hash));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MaglevLookup)->Arg(65537)->Arg(655373)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace rail
