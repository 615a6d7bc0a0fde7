// `railctl maglev`: builds synthetic Maglev tables and prints balance and disruption figures
// (core logic in core/maglev/maglev_analysis.h; this file only parses flags and prints).
#include <cstdio>
#include <memory>
#include <string>

#include "core/maglev/maglev_analysis.h"
#include "tools/railctl/subcommands.h"

namespace rail::railctl {
namespace {

std::string weights_text(const std::vector<uint32_t>& weights) {
  if (weights.empty()) return "1";
  std::string text;
  for (size_t i = 0; i < weights.size(); ++i) {
    text += (i ? "," : "") + std::to_string(weights[i]);
  }
  return text;
}

void print_change_json(const char* name, const std::optional<MaglevChange>& change) {
  if (!change) {
    std::printf(",\n  \"%s\": null", name);
    return;
  }
  std::printf(
      ",\n  \"%s\": {\"backends\": %u, \"entries_changed\": %.6f, \"entries_minimum\": %.6f, "
      "\"flows_moved\": %.6f}",
      name, change->backends_changed, change->entries_changed, change->entries_minimum,
      change->flows_moved);
}

void print_json(const MaglevExperimentReport& r) {
  const MaglevBalance& b = r.balance;
  std::printf(
      "{\n  \"table_size\": %u,\n  \"backends\": %u,\n  \"weights\": [%s],\n  \"seed\": %llu,\n"
      "  \"flows\": %u,\n  \"balance\": {\"eligible_backends\": %u, \"min_entries\": %u, "
      "\"avg_entries\": %.4f, \"max_entries\": %u, \"max_over_avg\": %.6f, "
      "\"max_weighted_error\": %.6f}",
      r.spec.table_size, r.spec.backends, weights_text(r.spec.weights).c_str(),
      static_cast<unsigned long long>(r.spec.seed), r.spec.flows, b.eligible_backends,
      b.min_entries, b.avg_entries, b.max_entries, b.max_over_avg, b.max_weighted_error);
  print_change_json("fail", r.fail);
  print_change_json("add", r.add);
  std::printf("\n}\n");
}

void print_change_text(const char* verb, const MaglevChange& c, uint32_t flows) {
  std::printf(
      "%-4s %u backend(s): table entries changed %7.3f%% (minimum %.3f%%), "
      "flows moved %7.3f%% of %u\n",
      verb, c.backends_changed, 100 * c.entries_changed, 100 * c.entries_minimum,
      100 * c.flows_moved, flows);
}

void print_text(const MaglevExperimentReport& r) {
  const MaglevBalance& b = r.balance;
  std::printf("Maglev table M=%u, %u backends, weights %s, seed %llu\n", r.spec.table_size,
              r.spec.backends, weights_text(r.spec.weights).c_str(),
              static_cast<unsigned long long>(r.spec.seed));
  std::printf(
      "balance: entries per backend min %u avg %.2f max %u, max/avg %.4f, "
      "max weighted error %.3f%%\n",
      b.min_entries, b.avg_entries, b.max_entries, b.max_over_avg, 100 * b.max_weighted_error);
  if (r.fail) print_change_text("fail", *r.fail, r.spec.flows);
  if (r.add) print_change_text("add", *r.add, r.spec.flows);
}

struct MaglevOptions {
  MaglevExperimentSpec spec;
  bool json = false;
  bool show_table = false;
};

// The table itself, position by position: only sensible for small M.
int print_table(const MaglevExperimentSpec& spec) {
  std::vector<MaglevBackend> backends;
  for (uint32_t i = 0; i < spec.backends; ++i) {
    const uint32_t weight = spec.weights.empty() ? 1 : spec.weights[i % spec.weights.size()];
    backends.push_back({synthetic_backend_identity(i), weight, BackendState::kUp});
  }
  auto table = MaglevTable::build(backends, spec.table_size);
  if (!table) {
    std::fprintf(stderr, "error: %s\n", table.error().message.c_str());
    return kExitUsage;
  }
  std::printf("position -> backend (identity); every node computes this same table\n");
  for (uint32_t pos = 0; pos < table->size(); ++pos) {
    const uint32_t b = table->entries()[pos];
    std::printf("  %5u -> %s\n", pos, b == kNoBackend ? "(none)" : backends[b].identity.c_str());
  }
  return kExitOk;
}

int run(const MaglevOptions& options) {
  if (options.show_table) {
    if (options.spec.table_size > 1021) {
      std::fprintf(stderr, "error: --show-table prints every position: use a table size <= 1021\n");
      return kExitUsage;
    }
    if (int rc = print_table(options.spec); rc != kExitOk) return rc;
  }
  Result<MaglevExperimentReport> report = run_maglev_experiment(options.spec);
  if (!report) {
    std::fprintf(stderr, "error: %s\n", report.error().message.c_str());
    return report.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  if (options.json) {
    print_json(*report);
  } else {
    print_text(*report);
  }
  return kExitOk;
}

}  // namespace

void add_maglev_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<MaglevOptions>();
  CLI::App* cmd = app.add_subcommand(
      "maglev", "Offline analysis: balance of a Maglev table and disruption on failure/addition");
  MaglevExperimentSpec& spec = options->spec;
  cmd->add_option("--backends,-n", spec.backends,
                  "number of synthetic backends (2001:db8:b::1, ...)")
      ->check(CLI::Range(1u, 1u << 24));
  cmd->add_option("--table-size,-m", spec.table_size, "Maglev table size M (a prime)")
      ->capture_default_str();
  cmd->add_option("--weights", spec.weights, "weights, cycled over the backends (e.g. 1,2,3,4)")
      ->delimiter(',');
  cmd->add_option("--fail", spec.fail, "backends (random, by seed) that go down")
      ->capture_default_str();
  cmd->add_option("--add", spec.add, "new backends appended")->capture_default_str();
  cmd->add_option("--flows", spec.flows, "sampled flows for the moved-flows figure")
      ->capture_default_str();
  cmd->add_option("--seed", spec.seed, "seed of the flow sample and failure choice")
      ->capture_default_str();
  cmd->add_flag("--json", options->json, "print JSON instead of text");
  cmd->add_flag("--show-table", options->show_table, "also print the table (table size <= 1021)");
  cmd->callback([options, &action] { action = [options] { return run(*options); }; });
}

}  // namespace rail::railctl
