// rail_config_edit_bench: the API's config edits (daemon/controller/config_edit.h) alone, no data
// plane: running config + change -> validated candidate, with one VIP of 1000 backends.
//
// VIP edits (POST/DELETE a small second VIP with an inline pool) beside a weight change and an
// added backend (model edits: the new entry alone is read, check_config on the candidate).
// revalidate() is the whole-config round trip (to_yaml + parse_config) for comparison.
#include <benchmark/benchmark.h>

#include <string>

#include "daemon/config/yaml_loader.h"
#include "daemon/controller/config_edit.h"
#include "unit/controller_world_yaml.h"

namespace rail::daemon {
namespace {

constexpr const char* kSmallVip =
    R"({"name": "dns", "address": "198.18.100.2", "protocol": "udp", "port": 53,
        "table_size": 13, "pool": {"backends": ["198.18.1.4", "198.18.1.5"]}})";

IpAddress backend_address(int i) {
  return *IpAddress::parse("198.18." + std::to_string(10 + i / 250) + "." +
                           std::to_string(1 + i % 250));
}

// Pool "web" of `backends` behind VIP www (M = 65537).
DaemonConfig big_config(int backends) {
  std::string list;
  for (int i = 0; i < backends; ++i) list += (i ? ", " : "") + backend_address(i).to_string();
  auto c = parse_config(testing::world_yaml("/var/lib/rail", "type: none", "[" + list + "]", 65537),
                        "bench");
  if (!c) std::abort();
  return *c;
}

template <typename Edit>
void run(benchmark::State& state, const DaemonConfig& config, Edit edit) {
  for (auto _ : state) {
    auto r = edit(config);
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      return;
    }
    benchmark::DoNotOptimize(r);
  }
}

void BM_WithVip(benchmark::State& state) {
  const DaemonConfig config = big_config(int(state.range(0)));
  run(state, config, [](const DaemonConfig& c) { return with_vip(c, kSmallVip); });
}
BENCHMARK(BM_WithVip)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_WithoutVip(benchmark::State& state) {
  auto config = with_vip(big_config(int(state.range(0))), kSmallVip);
  if (!config) std::abort();
  run(state, *config, [](const DaemonConfig& c) { return without_vip(c, "dns"); });
}
BENCHMARK(BM_WithoutVip)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_WithWeight(benchmark::State& state) {
  const DaemonConfig config = big_config(int(state.range(0)));
  const IpAddress x = backend_address(7);
  run(state, config, [&](const DaemonConfig& c) { return with_weight(c, "web", x, 2); });
}
BENCHMARK(BM_WithWeight)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_WithBackend(benchmark::State& state) {
  const DaemonConfig config = big_config(int(state.range(0)));
  run(state, config,
      [](const DaemonConfig& c) { return with_backend(c, "web", R"({"address": "198.18.9.9"})"); });
}
BENCHMARK(BM_WithBackend)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_Revalidate(benchmark::State& state) {
  const DaemonConfig config = big_config(int(state.range(0)));
  run(state, config, [](const DaemonConfig& c) { return revalidate(c); });
}
BENCHMARK(BM_Revalidate)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace rail::daemon
