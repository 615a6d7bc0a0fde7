// rail_xdp_bench, live part: the balancer's forwarding rate over a veth pair, against trivial
// XDP_TX (the target's reference) and a lookup-free GRE encapsulator (like for like).
//
// A live-frames generator in namespace "gen" XDP_TXes an established flow's ACK to a VIP over a
// veth into namespace "rail", where the program under test sends it back; a counting XDP sink
// on the generator's veth measures the rate. Method and results: docs/xdp-benchmarks.md.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <optional>
#include <thread>

#include "dataplane/libbpf_error.h"
#include "netns.h"
#include "xdp_bench.h"

namespace rail::xdpbench {
namespace {

// Runs the live-frames generator until `stop`: the trivial XDP_TX program on `frame`, each
// frame transmitted out of `ifindex` (the generator-side veth) as if it had arrived there.
Status generate(int prog_fd, int ifindex, const Bytes& frame, const std::atomic<bool>& stop,
                std::atomic<uint64_t>& generated) {
  xdp_md ctx{};
  ctx.data_end = static_cast<__u32>(frame.size());  // the kernel wants data..data_end = input
  ctx.ingress_ifindex = static_cast<__u32>(ifindex);
  constexpr uint32_t kRepeat = 20'000;  // ~ms per call: the stop flag is seen promptly
  while (!stop.load(std::memory_order_relaxed)) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                .data_size_in = static_cast<__u32>(frame.size()), .ctx_in = &ctx,
                .ctx_size_in = sizeof(ctx), .repeat = kRepeat, .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
                .batch_size = 64);
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
      return dataplane::errno_error("BPF_PROG_TEST_RUN live frames");
    }
    generated.fetch_add(kRepeat, std::memory_order_relaxed);
  }
  return ok();
}

}  // namespace

Result<LiveReport> run_live_bench(const TrivialSkeleton& trivial, const ProbeSkeleton& probe,
                                  const Options& o) {
  using namespace std::chrono;
  LiveReport report;
  auto gen = e2e::Netns::create("gen");
  if (!gen) return gen.error();
  auto rail_ns = e2e::Netns::create("rail");
  if (!rail_ns) return rail_ns.error();
  auto veth = e2e::VethPair::create(*gen, "g0", *rail_ns, "r0");
  if (!veth) return veth.error();
  // Every BPF_PROG_RUN of an XDP program adds it to the kernel's XDP dispatcher and removes it
  // at the end, unless a native attachment already holds it there: each change rewrites the
  // dispatcher (text poke, IPIs, RCU grace period) and stalls the generator for milliseconds.
  // With xdp_tx on r0 (the reference) the generator's own program was held for free; with
  // anything else there it was not, which made every other program look 3x slower. So the
  // generator's program is held natively on a spare veth for the whole run.
  auto hold_ns = e2e::Netns::create("hold");
  if (!hold_ns) return hold_ns.error();
  auto spare = e2e::VethPair::create(*gen, "k0", *hold_ns, "k1");
  if (!spare) return spare.error();

  auto plane = load_balancer(o);
  if (!plane) return plane.error();

  // The sink on the generator's side (its presence also lets r0's XDP_TX reach g0).
  std::optional<dataplane::XdpAttachment> sink, generator_held;
  int g0_ifindex = 0;
  Status s = gen->run([&]() -> Status {
    g0_ifindex = int(if_nametoindex("g0"));
    if (g0_ifindex == 0) return dataplane::errno_error("if_nametoindex g0");
    auto a = dataplane::XdpAttachment::attach("g0", bpf_program__fd(trivial->progs.xdp_count_drop),
                                              dataplane::XdpMode::kNative);
    if (!a) return a.error();
    sink.emplace(std::move(*a));
    auto held = dataplane::XdpAttachment::attach("k0", bpf_program__fd(trivial->progs.xdp_tx),
                                                 dataplane::XdpMode::kNative);
    if (!held) return held.error();
    generator_held.emplace(std::move(*held));
    return ok();
  });
  if (!s) return s.error();

  // Rail's own attachment is inside XdpDataPlane; a reference is held here. Swapped per trial.
  std::optional<dataplane::XdpAttachment> reference;
  auto attach_rail = [&]() {
    return rail_ns->run([&]() { return (*plane)->attach("r0", dataplane::XdpMode::kNative); });
  };
  auto attach_reference = [&](int prog_fd) {
    return rail_ns->run([&]() -> Status {
      auto a = dataplane::XdpAttachment::attach("r0", prog_fd, dataplane::XdpMode::kNative);
      if (!a) return a.error();
      reference.emplace(std::move(*a));
      return ok();
    });
  };

  // An established flow (its SYN goes first): the live path is the common one, a table hit.
  const Bytes syn =
      golden::from_router(golden::tcp4(golden::kClient4, 40000, golden::kWeb4, 80).syn().build());
  const Bytes ack =
      golden::from_router(golden::tcp4(golden::kClient4, 40000, golden::kWeb4, 80).ack().build());
  if (auto r = run_once((*plane)->prog_fd(), syn, XDP_TX); !r) return r.error();

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> generated{0};
  Status gen_status = ok();
  const int gen_fd = bpf_program__fd(trivial->progs.xdp_tx);
  const int sink_fd = bpf_map__fd(trivial->maps.sink_packets);
  std::thread generator([&] {
    gen_status = gen->run([&] { return generate(gen_fd, g0_ifindex, ack, stop, generated); });
  });
  const auto started = steady_clock::now();

  // Rate received back at the sink over one window, after letting the swap settle.
  auto window = [&]() -> double {
    std::this_thread::sleep_for(milliseconds(200));
    const uint64_t c0 = sum_per_cpu(sink_fd);
    const auto t0 = steady_clock::now();
    std::this_thread::sleep_for(duration<double>(o.live_seconds));
    const uint64_t c1 = sum_per_cpu(sink_fd);
    return double(c1 - c0) / duration<double>(steady_clock::now() - t0).count();
  };
  auto reference_window = [&](int prog_fd, std::vector<double>& into) -> Status {
    RAIL_TRY(attach_reference(prog_fd));
    into.push_back(window());
    reference.reset();
    return ok();
  };
  Status result = ok();
  // Interleaved trials, the order rotating: drift of the shared machine hits all three alike.
  for (int t = 0; t < o.live_trials && result; ++t) {
    for (int k = 0; k < 3 && result; ++k) {
      const int which = (t + k) % 3;
      if (which == 1) {
        result = reference_window(bpf_program__fd(trivial->progs.xdp_tx), report.trivial_pps);
      } else if (which == 2) {
        result = reference_window(bpf_program__fd(probe->progs.xdp_tx_gre), report.gre_pps);
      } else if ((result = attach_rail())) {
        auto before = (*plane)->stats();
        const uint64_t sink_before = sum_per_cpu(sink_fd);
        report.rail_pps.push_back(window());
        auto after = (*plane)->stats();
        report.rail_sink += sum_per_cpu(sink_fd) - sink_before;
        if (before && after) {
          auto moved = [&](int c) { return after->counters[c] - before->counters[c]; };
          report.rail_rx += moved(RAIL_CNT_RX);
          report.rail_tx += moved(RAIL_CNT_TX);
          report.rail_conn_hits += moved(RAIL_CNT_CONN_HITS);
          report.rail_new_flows += moved(RAIL_CNT_NEW_FLOWS);
        }
        (*plane)->detach_all();
      }
    }
  }
  stop = true;
  generator.join();
  report.generated_pps =
      uint64_t(double(generated.load()) / duration<double>(steady_clock::now() - started).count());
  (*plane)->detach_all();
  reference.reset();
  sink.reset();
  generator_held.reset();
  if (!result) return result.error();
  if (!gen_status) return gen_status.error();
  report.rail_median = median(report.rail_pps);
  report.trivial_median = median(report.trivial_pps);
  report.gre_median = median(report.gre_pps);
  auto pct = [](double a, double b) { return b > 0 ? 100.0 * a / b : 0; };
  report.ratio_pct = pct(report.rail_median, report.trivial_median);
  report.gre_ratio_pct = pct(report.rail_median, report.gre_median);
  return report;
}

uint64_t sum_per_cpu(int map_fd) {
  const int ncpus = std::max(1, libbpf_num_possible_cpus());
  std::vector<uint64_t> values(size_t(ncpus), 0);
  uint32_t key = 0;
  if (bpf_map_lookup_elem(map_fd, &key, values.data()) != 0) return 0;
  return std::accumulate(values.begin(), values.end(), uint64_t{0});
}

}  // namespace rail::xdpbench
