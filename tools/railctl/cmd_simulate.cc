// `railctl simulate`: established flows through the reference forwarder while backends fail or
// join (core logic: core/forwarder/flow_simulation.h; this file parses flags and prints).
#include <cstdio>
#include <memory>

#include "core/forwarder/flow_simulation.h"
#include "tools/railctl/subcommands.h"

namespace rail::railctl {
namespace {

struct SimulateOptions {
  FlowSimulationSpec spec;
  bool json = false;
};

double pct(uint32_t part, uint32_t whole) {
  return whole ? 100.0 * part / whole : 0.0;
}

void print_text(const FlowSimulationSpec& s, const FlowSimulationReport& r) {
  std::printf("%u TCP flows to 198.18.100.1:80 over %u backends (Maglev M=%u), %u frames\n",
              s.flows, s.backends, s.table_size, r.packets);
  std::printf("  %-16s %6s\n", "backend", "flows");
  for (size_t i = 0; i < r.backend_names.size(); ++i)
    std::printf("  %-16s %6u  %5.1f%%\n", r.backend_names[i].c_str(), r.flows_before[i],
                pct(r.flows_before[i], s.flows));
  std::printf("%s %zu backend(s):", s.fail ? "failed" : "added", r.changed_backends.size());
  for (const auto& b : r.changed_backends) std::printf(" %s", b.c_str());
  std::printf("\n");
  std::printf(
      "  with the connection table: %u flows moved (%.1f%%); %u were on failed backends, "
      "%u on healthy ones\n",
      r.moved_with_table, pct(r.moved_with_table, s.flows), r.flows_on_failed, r.moved_on_healthy);
  std::printf("  stateless Maglev (no table): %u flows moved (%.1f%%)\n", r.moved_stateless,
              pct(r.moved_stateless, s.flows));
}

void print_json(const FlowSimulationSpec& s, const FlowSimulationReport& r) {
  std::printf(
      "{\"backends\": %u, \"flows\": %u, \"table_size\": %u, \"changed\": %zu, "
      "\"flows_on_failed\": %u, \"moved_with_table\": %u, \"moved_on_healthy\": %u, "
      "\"moved_stateless\": %u, \"flows_before\": [",
      s.backends, s.flows, s.table_size, r.changed_backends.size(), r.flows_on_failed,
      r.moved_with_table, r.moved_on_healthy, r.moved_stateless);
  for (size_t i = 0; i < r.flows_before.size(); ++i)
    std::printf("%s%u", i ? ", " : "", r.flows_before[i]);
  std::printf("]}\n");
}

int run(const SimulateOptions& o) {
  auto report = simulate_flows(o.spec);
  if (!report) {
    std::fprintf(stderr, "error: %s\n", report.error().message.c_str());
    return report.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  if (o.json) {
    print_json(o.spec, *report);
  } else {
    print_text(o.spec, *report);
  }
  return kExitOk;
}

}  // namespace

void add_simulate_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<SimulateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "simulate", "Push flows through the reference forwarder while backends fail or join");
  cmd->add_option("--backends,-n", o->spec.backends, "backends (198.18.2.1 ...), 1..250")
      ->capture_default_str();
  cmd->add_option("--flows,-f", o->spec.flows, "TCP flows opened before the change")
      ->capture_default_str();
  cmd->add_option("--fail", o->spec.fail, "backends that go down")->capture_default_str();
  cmd->add_option("--add", o->spec.add, "backends that join")->capture_default_str();
  cmd->add_option("--table-size,-m", o->spec.table_size, "Maglev table size (prime)")
      ->capture_default_str();
  cmd->add_option("--seed", o->spec.seed, "seed of clients and failure choice")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "print JSON instead of text");
  cmd->callback([o, &action] { action = [o] { return run(*o); }; });
}

}  // namespace rail::railctl
