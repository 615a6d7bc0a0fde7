// Controller over the reference data plane: every change reaches the packets, bad changes
// change nothing, overrides and API edits persist.
#include <gtest/gtest.h>

#include "controller_test_world.h"
#include "daemon/config/config_store.h"

namespace rail::daemon::testing {
namespace {

using Set = std::set<std::string>;

TEST(ControllerChanges, StartsServingEveryBackend) {
  ControllerWorld w;
  EXPECT_EQ(w.spread(), (Set{"198.18.1.1", "198.18.1.2", "198.18.1.3"}));
  auto v = w.c().vip("www");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->up, 3u);
  EXPECT_EQ(v->table_rebuilds, 1u);
  EXPECT_GT(v->traffic.packets, 0u);
}

TEST(ControllerChanges, DrainKeepsEstablishedFlowsAndTakesNoNewOnes) {
  ControllerWorld w;
  // An established flow on .2 (SYN chose it; its connection entry keeps it there).
  uint16_t port = 20000;
  while (w.send(port, true) != "198.18.1.2") ++port;
  ASSERT_TRUE(w.c().set_drained("web", ip("198.18.1.2"), true));
  EXPECT_EQ(w.spread(), (Set{"198.18.1.1", "198.18.1.3"}));
  EXPECT_EQ(w.send(port, false), "198.18.1.2");  // established: stays
  EXPECT_TRUE(w.c().runtime().drained.count({"web", ip("198.18.1.2")}));
  ASSERT_TRUE(w.c().set_drained("web", ip("198.18.1.2"), false));
  EXPECT_EQ(w.spread(30000), (Set{"198.18.1.1", "198.18.1.2", "198.18.1.3"}));
}

TEST(ControllerChanges, ForceDownMovesEvenEstablishedFlowsAndForceNoneRestores) {
  ControllerWorld w;
  uint16_t port = 20000;
  while (w.send(port, true) != "198.18.1.3") ++port;
  ASSERT_TRUE(w.c().force("web", ip("198.18.1.3"), BackendState::kDown));
  EXPECT_EQ(w.spread(), (Set{"198.18.1.1", "198.18.1.2"}));
  EXPECT_NE(w.send(port, false), "198.18.1.3");
  ASSERT_TRUE(w.c().force("web", ip("198.18.1.3"), std::nullopt));
  EXPECT_EQ(w.spread(40000).count("198.18.1.3"), 1u);
}

TEST(ControllerChanges, WeightChangesTheShareAndIsPersisted) {
  ControllerWorld w;
  ASSERT_TRUE(w.c().set_weight("web", ip("198.18.1.1"), 0));
  EXPECT_EQ(w.spread(), (Set{"198.18.1.2", "198.18.1.3"}));
  ASSERT_TRUE(w.c().flush_state());  // the state files are written behind the change
  auto saved = ConfigStore((w.dir() / "running.yaml").string()).load();
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_EQ(saved->pools[0].backends[0].weight, 0u);
  EXPECT_EQ(saved->pools[0].backends[1].weight, 1u);
}

TEST(ControllerChanges, AddAndRemoveBackendAndVip) {
  ControllerWorld w;
  ASSERT_TRUE(w.c().add_backend("web", R"({"address": "198.18.1.4", "weight": 3})"));
  EXPECT_EQ(w.spread().count("198.18.1.4"), 1u);
  ASSERT_TRUE(w.c().remove_backend("web", ip("198.18.1.1")));
  EXPECT_EQ(w.spread(50000), (Set{"198.18.1.2", "198.18.1.3", "198.18.1.4"}));

  ASSERT_TRUE(w.c().add_vip(R"({"name": "dns", "address": "198.18.100.2", "protocol": "udp",
      "port": 53, "table_size": 13, "pool": {"backends": ["198.18.1.4"]}})"));
  EXPECT_EQ(w.c().vips().size(), 2u);
  EXPECT_EQ(w.c().config().pools.size(), 2u);  // the inline pool, named "dns"
  ASSERT_TRUE(w.c().remove_vip("dns"));
  EXPECT_EQ(w.c().config().pools.size(), 1u);
  ASSERT_TRUE(w.c().flush_state());  // the state files are written behind the change
  auto saved = ConfigStore((w.dir() / "running.yaml").string()).load();
  ASSERT_TRUE(saved);
  EXPECT_EQ(*saved, w.c().config());
}

TEST(ControllerChanges, BadChangesAreRefusedWithReasonsAndChangeNothing) {
  ControllerWorld w;
  const DaemonConfig before = w.c().config();
  const Set spread = w.spread();

  Status st = w.c().add_vip(R"({"name": "x", "address": "198.18.100.9", "port": 70000,
      "table_size": 100, "pool": "nope"})");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message.find("vips[1].port: 70000 is not a port"), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("vips[1].table_size"), std::string::npos);
  EXPECT_EQ(st.error().message.find("api:"), std::string::npos);  // no made-up positions

  st = w.c().add_vip(R"({"name": "www", "address": "198.18.100.9", "port": 81, "pool": "web"})");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(w.c().set_weight("web", ip("198.18.1.1"), 70000).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(w.c().set_weight("web", ip("198.18.9.9"), 1).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(w.c().set_drained("nope", ip("198.18.1.1"), true).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(w.c().remove_vip("nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(w.c().add_backend("web", "198.18.1.5").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(w.c().add_backend("web", R"({"address": "198.18.1.1"})").error().code,
            ErrorCode::kAlreadyExists);

  // A bad file on reload: refused, old config keeps serving.
  w.write("node: {interfaces: [veth0], mtus: 1500}\n");
  st = w.c().reload();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("did you mean \"mtu\""), std::string::npos);

  EXPECT_EQ(w.c().config(), before);
  EXPECT_EQ(w.spread(), spread);
  EXPECT_GE(w.c().node().refused_changes, 8u);
}

TEST(ControllerChanges, ReloadReplacesApiEditsButKeepsOverrides) {
  ControllerWorld w;
  ASSERT_TRUE(w.c().set_weight("web", ip("198.18.1.1"), 5));
  ASSERT_TRUE(w.c().set_drained("web", ip("198.18.1.2"), true));
  ASSERT_TRUE(w.c().reload());
  EXPECT_EQ(w.c().config().pools[0].backends[0].weight, 1u);  // the file's weight again
  EXPECT_EQ(w.spread(), (Set{"198.18.1.1", "198.18.1.3"}));   // still drained
  ASSERT_TRUE(w.c().flush_state());
  auto rt = load_runtime_state(runtime_state_path((w.dir() / "running.yaml").string()));
  ASSERT_TRUE(rt) << rt.error().message;
  EXPECT_EQ(rt->drained.size(), 1u);
}

TEST(ControllerChanges, ChangesReachTheDataPlaneWithinTenMilliseconds) {
  ControllerWorld w;
  for (int i = 0; i < 20; ++i) {
    // Translate + Maglev build + apply; the state file's fsyncs come after and vary with disk.
    ASSERT_TRUE(w.c().set_drained("web", ip("198.18.1.2"), i % 2 == 0));
    EXPECT_LT(w.c().node().last_apply_seconds, 0.010);
  }
}

}  // namespace
}  // namespace rail::daemon::testing
