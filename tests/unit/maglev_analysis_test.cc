// Tests for the Maglev balance/disruption analysis behind `railctl maglev`.
#include "core/maglev/maglev_analysis.h"

#include <gtest/gtest.h>

#include <set>

namespace rail {
namespace {

TEST(MaglevAnalysis, SyntheticIdentitiesAreAddressesAndUnique) {
  EXPECT_EQ(synthetic_backend_identity(0), "2001:db8:b::1");
  EXPECT_EQ(synthetic_backend_identity(255), "2001:db8:b::100");
  std::set<std::string> seen;
  for (uint32_t i = 0; i < 5000; ++i) seen.insert(synthetic_backend_identity(i));
  EXPECT_EQ(seen.size(), 5000u);
}

TEST(MaglevAnalysis, FlowSampleIsDeterministicInSeedAndSpread) {
  const std::vector<uint32_t> a = sample_flow_hashes(10000, 1);
  EXPECT_EQ(a, sample_flow_hashes(10000, 1));
  EXPECT_NE(a, sample_flow_hashes(10000, 2));
  // Spread: the sample lands in all 16 buckets of hash mod 16, each near 1/16.
  std::vector<int> buckets(16, 0);
  for (uint32_t h : a) ++buckets[h % 16];
  for (int count : buckets) EXPECT_NEAR(count, 10000 / 16, 150);
}

TEST(MaglevAnalysis, BalanceOfEqualAndWeightedBackends) {
  std::vector<MaglevBackend> backends;
  for (uint32_t i = 0; i < 1000; ++i) backends.push_back({synthetic_backend_identity(i), 1});
  const MaglevTable table = MaglevTable::build(backends, 65537).value();
  const MaglevBalance balance = balance_of(table, backends);
  EXPECT_EQ(balance.eligible_backends, 1000u);
  EXPECT_EQ(balance.min_entries, 65u);  // 65537 / 1000 = 65.5: round-robin gives 65 or 66
  EXPECT_EQ(balance.max_entries, 66u);
  EXPECT_DOUBLE_EQ(balance.avg_entries, 65.537);
  EXPECT_DOUBLE_EQ(balance.max_over_avg, 66 / 65.537);

  backends[0].weight = 3;
  backends[1].state = BackendState::kDown;  // ignored by the balance figures
  const MaglevTable weighted = MaglevTable::build(backends, 65537).value();
  const MaglevBalance wb = balance_of(weighted, backends);
  EXPECT_EQ(wb.eligible_backends, 999u);
  EXPECT_GT(wb.max_over_avg, 2.5);  // the weight-3 backend holds ~3x the average
  EXPECT_LT(wb.max_weighted_error, 0.03);
}

TEST(MaglevAnalysis, FailureMovesTheFailedShareAndLittleElse) {
  MaglevExperimentSpec spec;
  spec.backends = 100;
  spec.fail = 3;
  spec.add = 2;
  spec.flows = 200000;
  const MaglevExperimentReport report = run_maglev_experiment(spec).value();
  ASSERT_TRUE(report.fail.has_value());
  ASSERT_TRUE(report.add.has_value());
  EXPECT_EQ(report.fail->backends_changed, 3u);
  // Three of 100 equal backends hold ~3% of the table; all of it must move.
  EXPECT_NEAR(report.fail->entries_minimum, 0.03, 0.001);
  EXPECT_GE(report.fail->entries_changed, report.fail->entries_minimum);
  EXPECT_LE(report.fail->entries_changed, report.fail->entries_minimum + 0.02);
  // Uniform flow hashes move in proportion to the entries (200k samples: +-0.5% is > 6 sigma).
  EXPECT_NEAR(report.fail->flows_moved, report.fail->entries_changed, 0.005);
  // Two new backends out of 102 take ~2/102 of the table.
  EXPECT_NEAR(report.add->entries_minimum, 2.0 / 102, 0.001);
  EXPECT_GE(report.add->entries_changed, report.add->entries_minimum);
  EXPECT_LE(report.add->entries_changed, report.add->entries_minimum + 0.02);
  EXPECT_NEAR(report.add->flows_moved, report.add->entries_changed, 0.005);
}

TEST(MaglevAnalysis, ExperimentIsDeterministicInSeed) {
  MaglevExperimentSpec spec;
  spec.backends = 50;
  spec.table_size = 1009;
  spec.fail = 5;
  spec.flows = 1000;
  const MaglevExperimentReport a = run_maglev_experiment(spec).value();
  const MaglevExperimentReport b = run_maglev_experiment(spec).value();
  EXPECT_EQ(a.fail->entries_changed, b.fail->entries_changed);
  EXPECT_EQ(a.fail->flows_moved, b.fail->flows_moved);
}

TEST(MaglevAnalysis, RejectsBadSpecs) {
  MaglevExperimentSpec spec;
  spec.backends = 10;
  spec.fail = 10;
  Result<MaglevExperimentReport> r = run_maglev_experiment(spec);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("cannot fail 10 of 10"), std::string::npos);

  spec.fail = 0;
  spec.table_size = 1000;
  r = run_maglev_experiment(spec);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("1000 is not prime"), std::string::npos);

  spec.backends = 0;
  spec.table_size = 13;
  EXPECT_FALSE(run_maglev_experiment(spec).has_value());

  // All weights zero: nothing left up after the failure either; the base table is empty.
  spec.backends = 4;
  spec.weights = {0};
  spec.fail = 1;
  EXPECT_FALSE(run_maglev_experiment(spec).has_value());
}

}  // namespace
}  // namespace rail
