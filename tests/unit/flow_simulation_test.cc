// FlowSimulation: the connection table keeps every flow on a healthy backend.
#include "core/forwarder/flow_simulation.h"

#include <gtest/gtest.h>

namespace rail {
namespace {

TEST(FlowSimulation, OnlyFlowsOnFailedBackendsMove) {
  FlowSimulationSpec spec;
  spec.backends = 10;
  spec.flows = 2000;
  spec.fail = 2;
  auto r = simulate_flows(spec);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->changed_backends.size(), 2u);
  EXPECT_EQ(r->moved_on_healthy, 0u);
  EXPECT_EQ(r->moved_with_table, r->flows_on_failed);
  // ~20% of flows sat on the two failed backends (Maglev balance, binomial noise).
  EXPECT_NEAR(double(r->flows_on_failed) / spec.flows, 0.2, 0.04);
  // Without the table Maglev still moves every flow of a failed backend, plus a few more.
  EXPECT_GE(r->moved_stateless, r->flows_on_failed);
}

TEST(FlowSimulation, AddingBackendsMovesNoEstablishedFlow) {
  FlowSimulationSpec spec;
  spec.backends = 8;
  spec.flows = 1000;
  spec.add = 2;
  auto r = simulate_flows(spec);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->moved_with_table, 0u);
  EXPECT_GT(r->moved_stateless, 0u);  // the table alone would have moved ~20%
}

TEST(FlowSimulation, RejectsImpossibleSpecs) {
  FlowSimulationSpec spec;
  spec.backends = 3;
  spec.fail = 3;
  auto r = simulate_flows(spec);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot fail 3 of 3"), std::string::npos);
  spec.fail = 0;
  spec.table_size = 100;
  EXPECT_FALSE(simulate_flows(spec));
}

}  // namespace
}  // namespace rail
