// Tests for MaglevTable: agreement with a naive Pseudocode-1 reimplementation, order
// independence, minimal disruption, weighted shares, errors, and pinned cross-build vectors.
#include "core/maglev/maglev_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace rail {
namespace {

std::vector<MaglevBackend> make_backends(size_t count, const std::string& prefix = "backend-") {
  std::vector<MaglevBackend> backends;
  for (size_t i = 0; i < count; ++i) backends.push_back({prefix + std::to_string(i), 1});
  return backends;
}

// The Maglev paper's Pseudocode 1, written as literally as possible and independently of the
// optimised builder: full permutation lists stored per backend (computed with division), a
// separate "next" index, entries initialised to -1; plus the documented weighted round rule.
std::vector<uint32_t> naive_maglev(const std::vector<MaglevBackend>& backends, uint32_t m) {
  std::vector<size_t> sorted;
  for (size_t i = 0; i < backends.size(); ++i) {
    if (backends[i].weight > 0 && backends[i].state == BackendState::kUp) sorted.push_back(i);
  }
  std::sort(sorted.begin(), sorted.end(),
            [&](size_t a, size_t b) { return backends[a].identity < backends[b].identity; });
  std::vector<int64_t> entry(m, -1);
  if (sorted.empty()) return std::vector<uint32_t>(m, kNoBackend);
  std::vector<std::vector<uint64_t>> permutation;
  uint64_t max_weight = 0;
  for (size_t i : sorted) {
    const uint64_t offset = siphash24(kMaglevOffsetKey, backends[i].identity) % m;
    const uint64_t skip = siphash24(kMaglevSkipKey, backends[i].identity) % (m - 1) + 1;
    std::vector<uint64_t> perm(m);
    for (uint64_t j = 0; j < m; ++j) perm[j] = (offset + j * skip) % m;
    permutation.push_back(perm);
    max_weight = std::max<uint64_t>(max_weight, backends[i].weight);
  }
  std::vector<uint64_t> next(sorted.size(), 0), placed(sorted.size(), 0);
  uint64_t n = 0;
  for (uint64_t round = 1; n < m; ++round) {
    for (size_t i = 0; i < sorted.size() && n < m; ++i) {
      if (placed[i] * max_weight > backends[sorted[i]].weight * round) continue;
      uint64_t c = permutation[i][next[i]];
      while (entry[c] >= 0) {
        next[i] = next[i] + 1;
        c = permutation[i][next[i]];
      }
      entry[c] = static_cast<int64_t>(sorted[i]);
      next[i] = next[i] + 1;
      ++placed[i];
      ++n;
    }
  }
  return std::vector<uint32_t>(entry.begin(), entry.end());
}

MaglevTable build_or_die(const std::vector<MaglevBackend>& backends, uint32_t m) {
  Result<MaglevTable> table = MaglevTable::build(backends, m);
  EXPECT_TRUE(table.has_value()) << (table ? "" : table.error().describe());
  return std::move(table).value();
}

TEST(MaglevTable, MatchesNaivePseudocode) {
  std::vector<MaglevBackend> five = make_backends(5, "b");
  EXPECT_EQ(build_or_die(five, 13).entries(), naive_maglev(five, 13));

  std::vector<MaglevBackend> mixed = make_backends(100);
  for (size_t i = 0; i < mixed.size(); ++i) mixed[i].weight = static_cast<uint32_t>(i % 7);
  mixed[3].state = BackendState::kDown;
  mixed[8].state = BackendState::kDrained;
  EXPECT_EQ(build_or_die(mixed, 1009).entries(), naive_maglev(mixed, 1009));
  EXPECT_EQ(build_or_die(mixed, 65537).entries(), naive_maglev(mixed, 65537));
}

// Pinned table for "b0".."b4", M = 13. Derived ONCE from this implementation after
// MatchesNaivePseudocode had verified it against the naive reimplementation above; it guards
// that every build and host (compiler, endianness, std::sort) yields the same table.
TEST(MaglevTable, PinnedSmallTable) {
  const std::vector<uint32_t> expected = {0, 2, 4, 0, 1, 1, 3, 1, 3, 2, 2, 0, 4};
  EXPECT_EQ(build_or_die(make_backends(5, "b"), 13).entries(), expected);
}

// Positions of the M = 65537 table for "backend-0".."backend-99", pinned the same way.
TEST(MaglevTable, PinnedLargeTablePositions) {
  const MaglevTable table = build_or_die(make_backends(100), 65537);
  EXPECT_EQ(table.entries()[0], 10u);
  EXPECT_EQ(table.entries()[1], 38u);
  EXPECT_EQ(table.entries()[2], 56u);
  EXPECT_EQ(table.entries()[1000], 51u);
  EXPECT_EQ(table.entries()[32768], 17u);
  EXPECT_EQ(table.entries()[65535], 7u);
  EXPECT_EQ(table.entries()[65536], 73u);
}

TEST(MaglevTable, SameTableForAnyOrder) {
  std::vector<MaglevBackend> backends = make_backends(200);
  for (size_t i = 0; i < backends.size(); ++i) backends[i].weight = 1 + i % 3;
  const MaglevTable reference = build_or_die(backends, 65537);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<MaglevBackend> shuffled = backends;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    const MaglevTable table = build_or_die(shuffled, 65537);
    for (uint32_t pos = 0; pos < table.size(); ++pos) {
      ASSERT_EQ(shuffled[table.entries()[pos]].identity,
                backends[reference.entries()[pos]].identity)
          << "position " << pos;
    }
  }
}

TEST(MaglevTable, RemovingOneBackendMovesLittleElse) {
  std::vector<MaglevBackend> backends = make_backends(1000);
  const MaglevTable before = build_or_die(backends, 65537);
  const uint32_t removed = 417;
  std::vector<MaglevBackend> fewer = backends;
  fewer.erase(fewer.begin() + removed);
  const MaglevTable after = build_or_die(fewer, 65537);

  size_t owned_by_removed = 0, others_moved = 0;
  for (uint32_t pos = 0; pos < before.size(); ++pos) {
    const std::string& old_id = backends[before.entries()[pos]].identity;
    if (before.entries()[pos] == removed) {
      ++owned_by_removed;
      EXPECT_NE(fewer[after.entries()[pos]].identity, old_id);
    } else if (fewer[after.entries()[pos]].identity != old_id) {
      ++others_moved;
    }
  }
  EXPECT_EQ(owned_by_removed, before.entries_per_backend()[removed]);
  EXPECT_LE(static_cast<double>(others_moved) / before.size(), 0.01);

  // Same move expressed via state (indices unchanged) and via the identity comparison.
  std::vector<MaglevBackend> down = backends;
  down[removed].state = BackendState::kDown;
  const MaglevTable after_down = build_or_die(down, 65537);
  EXPECT_EQ(after_down.entries_per_backend()[removed], 0u);
  const double by_index = *fraction_changed(before, after_down);
  const double by_identity = *fraction_changed_by_identity(before, backends, after, fewer);
  EXPECT_DOUBLE_EQ(by_index, by_identity);
  EXPECT_DOUBLE_EQ(by_identity,
                   static_cast<double>(owned_by_removed + others_moved) / before.size());

  // Adding it back restores exactly the original table (the table is a function of the set).
  const MaglevTable restored = build_or_die(backends, 65537);
  EXPECT_EQ(restored.entries(), before.entries());
}

TEST(MaglevTable, AddingOneBackendMovesLittleElse) {
  std::vector<MaglevBackend> backends = make_backends(1000);
  const MaglevTable before = build_or_die(backends, 65537);
  backends.push_back({"backend-new", 1});
  const MaglevTable after = build_or_die(backends, 65537);  // old indices unchanged
  size_t to_new = 0, others_moved = 0;
  for (uint32_t pos = 0; pos < before.size(); ++pos) {
    if (after.entries()[pos] == 1000) {
      ++to_new;
    } else if (after.entries()[pos] != before.entries()[pos]) {
      ++others_moved;
    }
  }
  EXPECT_EQ(to_new, after.entries_per_backend()[1000]);
  EXPECT_GT(to_new, 0u);
  EXPECT_LE(static_cast<double>(others_moved) / before.size(), 0.01);
}

void expect_shares_within_one_percent(const std::vector<uint32_t>& weights) {
  std::vector<MaglevBackend> backends = make_backends(weights.size());
  double total_weight = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    backends[i].weight = weights[i];
    total_weight += weights[i];
  }
  const MaglevTable table = build_or_die(backends, 65537);
  for (size_t i = 0; i < weights.size(); ++i) {
    const double share = static_cast<double>(table.entries_per_backend()[i]) / table.size();
    const double target = weights[i] / total_weight;
    EXPECT_NEAR(share / target, 1.0, 0.01) << "backend " << i << " weight " << weights[i];
  }
}

TEST(MaglevTable, WeightedSharesWithinOnePercent) {
  expect_shares_within_one_percent({1, 2, 3, 4});
  expect_shares_within_one_percent({10, 1});
  expect_shares_within_one_percent({1, 10, 10, 10, 10, 10});
  std::vector<uint32_t> cycled;
  for (uint32_t i = 0; i < 100; ++i) cycled.push_back(1 + i % 4);
  expect_shares_within_one_percent(cycled);
}

TEST(MaglevTable, EqualWeightsAreBalanced) {
  const MaglevTable table = build_or_die(make_backends(1000), 65537);
  const std::vector<uint32_t>& counts = table.entries_per_backend();
  const uint32_t max = *std::max_element(counts.begin(), counts.end());
  const uint32_t min = *std::min_element(counts.begin(), counts.end());
  EXPECT_LE(max / (65537.0 / 1000), 1.01);
  EXPECT_LE(max - min, 1u);  // round-robin: every backend places one entry per round
}

TEST(MaglevTable, DrainedAndDownBackendsGetNoEntries) {
  std::vector<MaglevBackend> backends = make_backends(10);
  backends[2].weight = 0;
  backends[5].state = BackendState::kDrained;
  backends[7].state = BackendState::kDown;
  const MaglevTable table = build_or_die(backends, 1009);
  EXPECT_EQ(table.eligible_count(), 7u);
  for (uint32_t entry : table.entries()) {
    ASSERT_NE(entry, kNoBackend);
    EXPECT_TRUE(backends[entry].eligible());
  }
  EXPECT_EQ(table.entries_per_backend()[2], 0u);
  EXPECT_EQ(table.entries_per_backend()[5], 0u);
  EXPECT_EQ(table.entries_per_backend()[7], 0u);
}

TEST(MaglevTable, NoEligibleBackendMeansNoBackendEverywhere) {
  const MaglevTable empty = build_or_die({}, 13);
  EXPECT_EQ(empty.entries(), std::vector<uint32_t>(13, kNoBackend));
  EXPECT_EQ(empty.lookup(12345), kNoBackend);
  std::vector<MaglevBackend> drained = make_backends(3);
  for (MaglevBackend& b : drained) b.weight = 0;
  const MaglevTable all_drained = build_or_die(drained, 13);
  EXPECT_TRUE(all_drained.empty_of_backends());
  EXPECT_EQ(all_drained.entries(), std::vector<uint32_t>(13, kNoBackend));
}

TEST(MaglevTable, LookupIsEntryAtHashModuloSize) {
  const MaglevTable table = build_or_die(make_backends(7), 101);
  for (uint32_t hash : {0u, 1u, 100u, 101u, 202u, 0xdeadbeefu, 0xffffffffu}) {
    EXPECT_EQ(table.lookup(hash), table.entries()[hash % 101]);
  }
}

void expect_invalid(const std::vector<MaglevBackend>& backends, uint32_t m, ErrorCode code,
                    const std::string& message_part) {
  Result<MaglevTable> table = MaglevTable::build(backends, m);
  ASSERT_FALSE(table.has_value()) << "M = " << m;
  EXPECT_EQ(table.error().code, code);
  EXPECT_NE(table.error().message.find(message_part), std::string::npos) << table.error().message;
}

TEST(MaglevTable, RejectsBadSizes) {
  const std::vector<MaglevBackend> three = make_backends(3);
  expect_invalid(three, 0, ErrorCode::kInvalidArgument, "table size 0 is too small");
  expect_invalid(three, 1, ErrorCode::kInvalidArgument, "table size 1 is too small");
  expect_invalid(three, 65536, ErrorCode::kInvalidArgument, "65536 is not prime");
  expect_invalid(three, 9, ErrorCode::kInvalidArgument, "9 is not prime");
  expect_invalid(three, 3, ErrorCode::kInvalidArgument, "must exceed the number of eligible");
  expect_invalid(three, 67108879, ErrorCode::kInvalidArgument, "exceeds the maximum");
  EXPECT_TRUE(MaglevTable::build(three, 5).has_value());
  // Ineligible backends do not count against M.
  std::vector<MaglevBackend> some_down = make_backends(5);
  some_down[0].state = BackendState::kDown;
  some_down[1].weight = 0;
  EXPECT_TRUE(MaglevTable::build(some_down, 5).has_value());
}

TEST(MaglevTable, RejectsDuplicateAndEmptyIdentities) {
  std::vector<MaglevBackend> backends = make_backends(4);
  backends.push_back({"backend-2", 3});
  expect_invalid(backends, 13, ErrorCode::kAlreadyExists, "'backend-2'");
  std::vector<MaglevBackend> unnamed = make_backends(2);
  unnamed.push_back({"", 1});
  expect_invalid(unnamed, 13, ErrorCode::kInvalidArgument, "empty identity");
}

TEST(MaglevTable, IsPrime) {
  const std::vector<uint32_t> primes = {2, 3, 5, 13, 65537, 655373, 4294967291u};
  for (uint32_t p : primes) EXPECT_TRUE(is_prime(p)) << p;
  for (uint32_t n : {0u, 1u, 4u, 9u, 65536u, 655371u, 4294967295u}) EXPECT_FALSE(is_prime(n)) << n;
}

TEST(MaglevTable, FractionChangedRejectsDifferentSizes) {
  const MaglevTable a = build_or_die(make_backends(3), 13);
  const MaglevTable b = build_or_die(make_backends(3), 17);
  EXPECT_FALSE(fraction_changed(a, b).has_value());
  EXPECT_DOUBLE_EQ(*fraction_changed(a, a), 0.0);
}

}  // namespace
}  // namespace rail
