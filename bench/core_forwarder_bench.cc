// Reference forwarder cost per packet on its main paths (the AF_XDP data plane runs this code).
#include <benchmark/benchmark.h>

#include "core/forwarder/forwarder.h"
#include "golden/golden_world.h"

namespace rail::golden {
namespace {

struct Setup {
  Forwarder forwarder;
  std::vector<uint8_t> out;
  Setup() {
    if (!forwarder.apply(sample_config())) std::abort();
    out.reserve(2048);
  }
};

void run(benchmark::State& state, const Bytes& frame, rail_verdict expected) {
  Setup s;
  uint64_t now = 1'000'000'000;
  if (s.forwarder.process(frame, now, s.out).action != expected) {
    state.SkipWithError("unexpected verdict");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.forwarder.process(frame, ++now, s.out));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ForwarderTcpSyn(benchmark::State& state) {
  run(state, from_router(tcp4(kClient4, 40000, kWeb4, 80).syn().build()), RAIL_VERDICT_TX);
}
void BM_ForwarderTcpEstablished(benchmark::State& state) {
  run(state, from_router(tcp4(kClient4, 40000, kWeb4, 80).ack().payload("GET /").build()),
      RAIL_VERDICT_TX);
}
void BM_ForwarderUdp(benchmark::State& state) {
  run(state, from_router(udp4(kClient4, 5000, kWeb4, 53).payload("query").build()),
      RAIL_VERDICT_TX);
}
void BM_ForwarderIpv6Tcp(benchmark::State& state) {
  run(state, from_router(tcp6(kClient6, 40000, kWeb6, 80).ack().build()), RAIL_VERDICT_TX);
}
void BM_ForwarderGreIngress(benchmark::State& state) {
  run(state, gre_from_router(tcp4(kClient4, 40000, kWeb4, 80).ack().build()), RAIL_VERDICT_TX);
}
void BM_ForwarderNotAVip(benchmark::State& state) {
  run(state, from_router(tcp4(kClient4, 40000, kNotVip4, 80).ack().build()), RAIL_VERDICT_PASS);
}

#define RAIL_FWD_BENCH(name) \
  BENCHMARK(name)->Repetitions(5)->ReportAggregatesOnly(true)->Unit(benchmark::kNanosecond)
RAIL_FWD_BENCH(BM_ForwarderTcpSyn);
RAIL_FWD_BENCH(BM_ForwarderTcpEstablished);
RAIL_FWD_BENCH(BM_ForwarderUdp);
RAIL_FWD_BENCH(BM_ForwarderIpv6Tcp);
RAIL_FWD_BENCH(BM_ForwarderGreIngress);
RAIL_FWD_BENCH(BM_ForwarderNotAVip);

}  // namespace
}  // namespace rail::golden
