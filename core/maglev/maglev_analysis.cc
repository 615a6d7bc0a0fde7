// Maglev balance and disruption analysis (see maglev_analysis.h).
#include "core/maglev/maglev_analysis.h"
#include <array>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "abi/rail_hash.h"
#include "core/net/address.h"

namespace rail {
namespace {

constexpr uint32_t kMaxSyntheticBackends = 1u << 24;  // well inside 2001:db8:b::/48

std::vector<MaglevBackend> synthetic_backends(uint32_t count,
                                              const std::vector<uint32_t>& weights) {
  std::vector<MaglevBackend> backends;
  backends.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t weight = weights.empty() ? 1 : weights[i % weights.size()];
    backends.push_back({synthetic_backend_identity(i), weight, BackendState::kUp});
  }
  return backends;
}

// Entries held in `table` by the backends whose index is marked in `chosen`, as a fraction.
double share_of(const MaglevTable& table, const std::vector<bool>& chosen) {
  uint64_t held = 0;
  for (size_t i = 0; i < chosen.size(); ++i) {
    if (chosen[i]) held += table.entries_per_backend()[i];
  }
  return static_cast<double>(held) / table.size();
}

}  // namespace

std::string synthetic_backend_identity(uint32_t i) {
  std::array<uint8_t, 16> bytes = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0b};  // 2001:db8:b::/48
  const uint32_t n = i + 1;
  bytes[12] = uint8_t(n >> 24);
  bytes[13] = uint8_t(n >> 16);
  bytes[14] = uint8_t(n >> 8);
  bytes[15] = uint8_t(n);
  return IpAddress::v6(bytes).to_string();
}

MaglevBalance balance_of(const MaglevTable& table, std::span<const MaglevBackend> backends) {
  MaglevBalance balance;
  uint64_t total_weight = 0;
  for (const MaglevBackend& b : backends) {
    if (b.eligible()) total_weight += b.weight;
  }
  balance.eligible_backends = table.eligible_count();
  if (balance.eligible_backends == 0) return balance;
  balance.min_entries = UINT32_MAX;
  for (size_t i = 0; i < backends.size(); ++i) {
    if (!backends[i].eligible()) continue;
    const uint32_t entries = table.entries_per_backend()[i];
    balance.min_entries = std::min(balance.min_entries, entries);
    balance.max_entries = std::max(balance.max_entries, entries);
    const double share = static_cast<double>(entries) / table.size();
    const double target = static_cast<double>(backends[i].weight) / total_weight;
    balance.max_weighted_error = std::max(balance.max_weighted_error, std::abs(share / target - 1));
  }
  balance.avg_entries = static_cast<double>(table.size()) / balance.eligible_backends;
  balance.max_over_avg = balance.max_entries / balance.avg_entries;
  return balance;
}

double fraction_of_flows_moved(const MaglevTable& before, const MaglevTable& after,
                               std::span<const uint32_t> flow_hashes) {
  if (flow_hashes.empty()) return 0;
  size_t moved = 0;
  for (uint32_t hash : flow_hashes) moved += before.lookup(hash) != after.lookup(hash);
  return static_cast<double>(moved) / flow_hashes.size();
}

std::vector<uint32_t> sample_flow_hashes(uint32_t count, uint64_t seed) {
  // mt19937_64's output sequence is fixed by the standard; its raw outputs are used directly
  // (std::uniform_int_distribution is implementation-defined), so samples match across builds.
  std::mt19937_64 rng(seed);
  const uint32_t client_base = 0xc6120000u;  // 198.18.0.0/15
  const uint32_t vip = 0xc6126401u;          // 198.18.100.1
  std::vector<uint32_t> hashes;
  hashes.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t r = rng();
    const uint32_t client = client_base | static_cast<uint32_t>(r & 0x1ffff);
    const uint16_t port = static_cast<uint16_t>(1024 + (r >> 32) % (65536 - 1024));
    hashes.push_back(rail_flow_hash_v4(RAIL_HTONL(client), RAIL_HTONL(vip), RAIL_HTONS(port),
                                       RAIL_HTONS(uint16_t{80}), 6, RAIL_HASH_5TUPLE,
                                       RAIL_DEFAULT_HASH_SEED));
  }
  return hashes;
}

Result<MaglevExperimentReport> run_maglev_experiment(const MaglevExperimentSpec& spec) {
  if (spec.backends == 0) {
    return make_error(ErrorCode::kInvalidArgument, "the number of backends must be at least 1");
  }
  if (static_cast<uint64_t>(spec.backends) + spec.add > kMaxSyntheticBackends) {
    return make_error(ErrorCode::kInvalidArgument, "backends + added backends must not exceed " +
                                                       std::to_string(kMaxSyntheticBackends));
  }
  if (spec.fail >= spec.backends) {
    return make_error(ErrorCode::kInvalidArgument, "cannot fail " + std::to_string(spec.fail) +
                                                       " of " + std::to_string(spec.backends) +
                                                       " backends: at least one must stay up");
  }
  MaglevExperimentReport report;
  report.spec = spec;
  const std::vector<MaglevBackend> base = synthetic_backends(spec.backends, spec.weights);
  Result<MaglevTable> base_table = MaglevTable::build(base, spec.table_size);
  if (!base_table) return base_table.error();
  report.balance = balance_of(*base_table, base);
  const std::vector<uint32_t> flows = sample_flow_hashes(spec.flows, spec.seed);

  if (spec.fail > 0) {
    // Partial Fisher-Yates over backend indices with raw generator outputs (deterministic).
    std::mt19937_64 rng(spec.seed ^ 0x6661696c);  // "fail": a stream apart from the flows'
    std::vector<uint32_t> order(spec.backends);
    std::iota(order.begin(), order.end(), 0u);
    std::vector<bool> failed(spec.backends, false);
    std::vector<MaglevBackend> after = base;
    for (uint32_t i = 0; i < spec.fail; ++i) {
      std::swap(order[i], order[i + rng() % (spec.backends - i)]);
      failed[order[i]] = true;
      after[order[i]].state = BackendState::kDown;
    }
    Result<MaglevTable> table = MaglevTable::build(after, spec.table_size);
    if (!table) return table.error();
    if (table->empty_of_backends()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "no eligible backend is left after failing " + std::to_string(spec.fail));
    }
    report.fail = MaglevChange{spec.fail, *fraction_changed(*base_table, *table),
                               share_of(*base_table, failed),
                               fraction_of_flows_moved(*base_table, *table, flows)};
  }
  if (spec.add > 0) {
    // Appending keeps the base indices, so tables compare position by position.
    const std::vector<MaglevBackend> after =
        synthetic_backends(spec.backends + spec.add, spec.weights);
    Result<MaglevTable> table = MaglevTable::build(after, spec.table_size);
    if (!table) return table.error();
    std::vector<bool> added(after.size(), false);
    std::fill(added.begin() + spec.backends, added.end(), true);
    report.add =
        MaglevChange{spec.add, *fraction_changed(*base_table, *table), share_of(*table, added),
                     fraction_of_flows_moved(*base_table, *table, flows)};
  }
  return report;
}

}  // namespace rail
