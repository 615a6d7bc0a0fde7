// XdpDataPlane life cycle: verifier cost, config errors, removals reaching the maps.
#include <bpf/bpf.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <utility>
#include <vector>

#include "balancer_pair.h"
#include "golden/golden_world.h"

namespace rail::golden {
namespace {

std::unique_ptr<XdpDataPlane> Load() {
  dataplane::XdpOptions options;
  options.conn_capacity = 1 << 12;
  auto plane = XdpDataPlane::load(options);
  EXPECT_TRUE(plane) << plane.error().describe();
  return plane ? std::move(*plane) : nullptr;
}

rail_verdict RunFrame(XdpDataPlane& plane, const Bytes& frame) {
  auto run = bpftest::test_run(plane.prog_fd(), frame);
  EXPECT_TRUE(run) << run.error().describe();
  return run ? verdict_of(run->retval) : RAIL_VERDICT_DROP;
}

TEST(XdpDataPlaneTest, ReportsVerifierCostAndLoadTime) {
  auto plane = Load();
  ASSERT_TRUE(plane);
  std::cout << "balancer: verified_insns " << plane->verified_insns() << ", load "
            << plane->load_time().count() << " us\n";
  RecordProperty("verified_insns", int(plane->verified_insns()));
  EXPECT_GT(plane->verified_insns(), 0u);
  EXPECT_LT(plane->verified_insns(), 300'000u);  // far from the 1M limit

  // Kernel-measured run time (BPF_PROG_TEST_RUN duration), for docs/xdp.md. Non-mutating
  // frames can repeat in one run; a TX rewrites its buffer, so it is timed run by run (median).
  ASSERT_TRUE(plane->apply(sample_config()));
  const Bytes not_vip = from_router(tcp4(kClient4, 40000, kNotVip4, 80).syn().build());
  const Bytes no_service = from_router(tcp4(kClient4, 40000, kWeb4, 22).syn().build());
  const Bytes syn = from_router(tcp4(kClient4, 40000, kWeb4, 80).syn().build());
  for (const auto& [what, frame] :
       {std::pair{"pass (not a VIP)", not_vip}, std::pair{"drop (no service)", no_service}}) {
    auto run = bpftest::test_run(plane->prog_fd(), frame, 100000);
    ASSERT_TRUE(run);
    std::cout << "balancer: " << what << " " << run->duration_ns << " ns\n";
  }
  std::vector<uint32_t> tx;
  for (int i = 0; i < 1001; ++i) {
    auto run = bpftest::test_run(plane->prog_fd(), syn, 1);
    ASSERT_TRUE(run);
    tx.push_back(run->duration_ns);
  }
  std::sort(tx.begin(), tx.end());
  std::cout << "balancer: tx (SYN, Maglev + conntrack write + GRE) median " << tx[500] << " ns\n";
}

TEST(XdpDataPlaneTest, InvalidConfigIsRefusedAndTheOldOneKeepsServing) {
  auto plane = Load();
  ASSERT_TRUE(plane);
  LbConfig config = sample_config();
  ASSERT_TRUE(plane->apply(config));
  const Bytes syn = from_router(tcp4(kClient4, 40000, kWeb4, 80).syn().build());
  EXPECT_EQ(RunFrame(*plane, syn), RAIL_VERDICT_TX);
  LbConfig bad = config;
  service(bad, kWeb4, Protocol::kTcp, 80).table_size = 100;  // not prime
  auto applied = plane->apply(bad);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, ErrorCode::kInvalidArgument) << applied.error().describe();
  EXPECT_EQ(RunFrame(*plane, syn), RAIL_VERDICT_TX);
}

// Tables of M <= 65537 live in rail_maglev_fast (fixed-size inner maps, inlined lookups),
// larger ones in rail_maglev_tables; a table moving between the two must pick as the reference
// does at every step (the slot is cleared in the other map after the swap).
TEST(XdpDataPlaneTest, LargeTablesAndTablesChangingSizeStillMatchTheReference) {
  LbConfig config = sample_config();
  Pair pair;
  pair.SetUp(config);
  auto check = [&](const char* step) {
    for (uint16_t port = 40000; port < 40064; ++port) {
      const Bytes syn = from_router(tcp4(kClient4, port, kWeb4, 80).syn().build());
      auto o = pair.Run(syn);
      EXPECT_EQ(o.xdp, o.ref.action) << step << " port " << port;
      EXPECT_EQ(o.xdp_out, o.ref_out) << step << " port " << port;
    }
  };
  auto tables_in = [&](const char* map) {
    int n = 0;
    for (uint32_t slot = 0; slot < RAIL_MAX_SERVICES; ++slot) {
      uint32_t inner_id = 0;
      if (bpf_map_lookup_elem(pair.plane().map_fd(map), &slot, &inner_id) == 0) ++n;
    }
    return n;
  };
  const int services = int(config.services.size());
  check("default size (fast map)");
  EXPECT_EQ(tables_in("rail_maglev_fast"), services);
  EXPECT_EQ(tables_in("rail_maglev_tables"), 0);
  service(config, kWeb4, Protocol::kTcp, 80).table_size = 131071;  // 2^17 - 1 > 65537
  pair.Apply(config);
  check("moved to the large-table map");
  EXPECT_EQ(tables_in("rail_maglev_fast"), services - 1);
  EXPECT_EQ(tables_in("rail_maglev_tables"), 1);
  service(config, kWeb4, Protocol::kTcp, 80).table_size = 251;
  pair.Apply(config);
  check("moved back to the fast map");
  EXPECT_EQ(tables_in("rail_maglev_fast"), services);
  EXPECT_EQ(tables_in("rail_maglev_tables"), 0);
}

TEST(XdpDataPlaneTest, RemovedServicesAndBackendsLeaveTheMaps) {
  auto plane = Load();
  ASSERT_TRUE(plane);
  LbConfig config = sample_config();
  ASSERT_TRUE(plane->apply(config));
  const Bytes syn = from_router(tcp4(kClient4, 40000, kWeb4, 80).syn().build());
  const Bytes sticky = from_router(tcp4(kClient4, 40000, kSticky4, 80).syn().build());
  ASSERT_EQ(RunFrame(*plane, sticky), RAIL_VERDICT_TX);

  // Without web4 tcp/80 the VIP stays (udp/any), the port does not: DROP NO_SERVICE.
  LbConfig less = config;
  std::erase_if(less.services, [](const Service& s) {
    return (s.vip == kWeb4 && s.protocol == Protocol::kTcp) || s.vip == kSticky4;
  });
  ASSERT_TRUE(plane->apply(less));
  EXPECT_EQ(RunFrame(*plane, syn), RAIL_VERDICT_DROP);
  EXPECT_EQ(RunFrame(*plane, sticky), RAIL_VERDICT_PASS);  // no longer a VIP address

  // Every backend slot not in `less` is free: family 0, DOWN.
  const int fd = plane->map_fd("rail_backends");
  ASSERT_GE(fd, 0);
  size_t used = 0, backends = 0;
  for (const Service& s : less.services) backends += s.backends.size();
  for (uint32_t id = 0; id < 64; ++id) {
    rail_backend be{};
    ASSERT_EQ(bpf_map_lookup_elem(fd, &id, &be), 0);
    if (be.family != 0)
      ++used;
    else
      EXPECT_TRUE(be.state == RAIL_BACKEND_DOWN || be.state == RAIL_BACKEND_UP) << id;
  }
  EXPECT_EQ(used, backends);

  // And back: the same SYN is balanced again.
  ASSERT_TRUE(plane->apply(config));
  EXPECT_EQ(RunFrame(*plane, syn), RAIL_VERDICT_TX);
  EXPECT_EQ(RunFrame(*plane, sticky), RAIL_VERDICT_TX);
}

}  // namespace
}  // namespace rail::golden
