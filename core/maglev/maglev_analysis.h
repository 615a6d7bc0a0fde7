// Offline analysis of Maglev tables: balance and disruption, in the style of the evaluation of
// the Maglev paper (NSDI 2016 §5.3). Used by `railctl maglev` and docs/maglev.md; pure and
// deterministic (randomness comes from an explicit seed).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/maglev/maglev_table.h"
#include "core/result.h"

namespace rail {

// Entries per eligible backend. Shares are fractions of the table size.
struct MaglevBalance {
  uint32_t eligible_backends = 0;
  uint32_t min_entries = 0;
  uint32_t max_entries = 0;
  double avg_entries = 0;         // table size / eligible backends
  double max_over_avg = 0;        // the paper's imbalance metric (1.0 = perfect)
  double max_weighted_error = 0;  // max |share / (weight / total weight) - 1| over backends
};

MaglevBalance balance_of(const MaglevTable& table, std::span<const MaglevBackend> backends);

// Fraction in [0, 1] of `flow_hashes` whose backend differs between two tables (indices must
// refer to the same backends, as for fraction_changed). 0 for an empty sample.
double fraction_of_flows_moved(const MaglevTable& before, const MaglevTable& after,
                               std::span<const uint32_t> flow_hashes);

// `count` flow hashes of TCP flows from random clients in 198.18.0.0/15 (RFC 2544 benchmark
// range), random source ports 1024..65535, to VIP 198.18.100.1:80, hashed with
// rail_flow_hash_v4 (5-tuple, RAIL_DEFAULT_HASH_SEED). Deterministic in `seed`.
std::vector<uint32_t> sample_flow_hashes(uint32_t count, uint64_t seed);

// Identity of synthetic backend i: the address text of 2001:db8:b:: + i + 1 ("2001:db8:b::1",
// ...), addresses from the documentation range (RFC 3849).
std::string synthetic_backend_identity(uint32_t i);

struct MaglevExperimentSpec {
  uint32_t backends = 1000;
  uint32_t table_size = kMaglevDefaultTableSize;
  std::vector<uint32_t> weights;  // backend i gets weights[i % size]; empty = all 1
  uint32_t fail = 0;              // backends (chosen at random by seed) that go down
  uint32_t add = 0;               // new backends appended
  uint32_t flows = 100000;        // sampled flows for the moved-flows figure
  uint64_t seed = 1;
};

// What changed between the base table and the table after a failure or an addition.
struct MaglevChange {
  uint32_t backends_changed = 0;  // K
  double entries_changed = 0;     // fraction of table positions with a different backend
  double entries_minimum = 0;     // fraction that MUST change: held by the failed / new ones
  double flows_moved = 0;         // fraction of sampled flows that changed backend
};

struct MaglevExperimentReport {
  MaglevExperimentSpec spec;
  MaglevBalance balance;             // of the base table
  std::optional<MaglevChange> fail;  // set when spec.fail > 0
  std::optional<MaglevChange> add;   // set when spec.add > 0
};

// Builds the base table of spec.backends synthetic backends and, independently, the table
// with spec.fail of them down and the table with spec.add new ones. Errors
// (kInvalidArgument): no backends, fail >= backends, backends + add beyond 2^24, a bad table
// size (as MaglevTable::build), no eligible backend left after the failure.
Result<MaglevExperimentReport> run_maglev_experiment(const MaglevExperimentSpec& spec);

}  // namespace rail
