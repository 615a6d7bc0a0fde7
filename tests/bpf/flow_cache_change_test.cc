// The XDP balancer's per-CPU flow cache across config changes and restarts: a slot never
// outlives what the maps said when it was filled.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "flow_cache_fixture.h"

namespace rail::golden::flow_cache {
namespace {

// A SYN reusing a cached 5-tuple is sent elsewhere by Maglev: its ACK must follow it, not the
// slot the previous connection's ACK filled.
TEST_F(FlowCacheTest, ReusedFiveTupleFollowsTheNewPick) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string a = Establish(41004);
  ASSERT_NO_FATAL_FAILURE(SetWebBackend(a, BackendState::kDrained));
  EXPECT_EQ(BackendOf(ack(41004)), a) << "a drained backend keeps its flows";
  const std::string b = BackendOf(syn(41004));
  ASSERT_NE(b, a) << "a SYN went to a drained backend";
  EXPECT_EQ(BackendOf(ack(41004)), b) << "the ACK followed the old connection's slot";
  EXPECT_EQ(BackendOf(ack(41004)), b);
}

// An exact-port service added in front of an any-port one bumps rail_service_gen: the slot
// stamped with the old generation must not keep the flow on the any-port service.
TEST_F(FlowCacheTest, ServiceGenerationChangeBypassesTheSlot) {
  config_.services.push_back(gre_service(kCacheVip, 0, {b(1)}));
  ASSERT_NO_FATAL_FAILURE(Load());
  ASSERT_EQ(Establish(42000, kCacheVip, 8080), b(1).to_string());
  EXPECT_EQ(BackendOf(ack(42000, kCacheVip, 8080)), b(1).to_string());
  config_.services.push_back(gre_service(kCacheVip, 8080, {b(3), b(4)}));
  Apply();
  const std::string now = BackendOf(ack(42000, kCacheVip, 8080));
  EXPECT_TRUE(now == b(3).to_string() || now == b(4).to_string())
      << "ACK after tcp/8080 was added went to " << now;
}

// A change only rail_services sees (a service's hash fields: no table, backend or node write)
// still moves rail_flow_cache_gen (apply() makes it odd before writing a changed rail_services
// entry): flows that a SYN re-picks under the new hash are followed at once.
TEST_F(FlowCacheTest, ServiceRecordChangeBypassesTheSlot) {
  ASSERT_NO_FATAL_FAILURE(Load());
  std::vector<std::pair<uint16_t, std::string>> flows;
  for (uint16_t port = 41100; port < 41116; ++port) {
    const std::string be = Establish(port);
    EXPECT_EQ(BackendOf(ack(port)), be);  // from the slot the first ACK filled
    flows.emplace_back(port, be);
  }
  service(config_, kWeb4, Protocol::kTcp, 80).hash_fields = RAIL_HASH_SRC_AFFINITY;
  Apply();
  int moved = 0;
  for (const auto& [port, before] : flows) {
    const std::string now = BackendOf(syn(port));
    moved += now != before;
    EXPECT_EQ(BackendOf(ack(port)), now)
        << "hash fields: port " << port << " (was " << before << ")";
  }
  EXPECT_GT(moved, 0) << "hash fields: no flow re-picked elsewhere, the test shows nothing";
}

// A new hash seed (rail_node only) moves every flow's pick. It also moves most flows' slots
// (rail_flow_cache_index is seeded), so each new seed here is one that keeps the test flow's
// slot in place: only the generation can then keep its ACK off the old slot.
TEST_F(FlowCacheTest, SeedChangeBypassesTheSlot) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const uint16_t port = 41120;
  const rail_flow_key4 key = key_of(port);
  const uint32_t cpu = uint32_t(sched_getcpu());
  int moved = 0;
  for (int round = 0; round < 12 && moved < 2; ++round) {
    const std::string before = Establish(port);
    ASSERT_TRUE(same_key(Slot(key).key, key)) << "the flow was not cached";
    const uint32_t index = rail_flow_cache_index(&key, config_.node.hash_seed, cpu);
    uint32_t seed = config_.node.hash_seed + 1;
    while (rail_flow_cache_index(&key, seed, cpu) != index) ++seed;
    config_.node.hash_seed = seed;
    Apply();
    const std::string now = BackendOf(syn(port));
    moved += now != before;
    EXPECT_EQ(BackendOf(ack(port)), now) << "seed " << seed << ": the ACK used the old slot";
  }
  EXPECT_GT(moved, 0) << "no seed moved the flow: the test shows nothing";
}

TEST_F(FlowCacheTest, DownBackendIsNotServedFromTheSlot) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string a = Establish(41005);
  ASSERT_NO_FATAL_FAILURE(SetWebBackend(a, BackendState::kDown));
  const std::string now = BackendOf(ack(41005));
  EXPECT_NE(now, a) << "ACK sent to a backend that is down";
  EXPECT_TRUE(is_address(now)) << now;  // still forwarded, to another one
}

// A hit checks its backend live, as a table hit does: a backend marked down in rail_backends
// (here directly, without an apply() and so without the generation moving) is never served
// from a slot.
TEST_F(FlowCacheTest, BackendDownInTheMapIsNotServedFromTheSlot) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string a = Establish(41015);
  EXPECT_EQ(BackendOf(ack(41015)), a);
  const rail_flow_cache_slot slot = Slot(key_of(41015));
  ASSERT_TRUE(same_key(slot.key, key_of(41015))) << "the flow was not cached";
  ASSERT_NE(slot.backend_id, RAIL_NO_BACKEND);
  const int fd = plane_->map_fd("rail_backends");
  rail_backend be{};
  ASSERT_EQ(bpf_map_lookup_elem(fd, &slot.backend_id, &be), 0);
  be.state = RAIL_BACKEND_DOWN;
  ASSERT_EQ(bpf_map_update_elem(fd, &slot.backend_id, &be, BPF_ANY), 0);
  const uint32_t gen = CacheGen();
  // The general path re-picks a flow whose backend is down (a new flow): with the table not
  // rebuilt, Maglev gives the same backend, so only the count tells that the slot was refused.
  const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
  EXPECT_EQ(BackendOf(ack(41015)), a);
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows + 1) << "served from the slot";
  EXPECT_EQ(CacheGen(), gen);
}

TEST_F(FlowCacheTest, RemovedBackendIsNotServedFromTheSlot) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string a = Establish(41006);
  std::erase_if(service(config_, kWeb4, Protocol::kTcp, 80).backends,
                [&](const Backend& be) { return be.address.to_string() == a; });
  Apply();
  const std::string now = BackendOf(ack(41006));
  EXPECT_NE(now, a) << "ACK sent to a backend removed from the service";
  EXPECT_TRUE(is_address(now)) << now;
}

// An apply() that writes nothing a slot depends on leaves rail_flow_cache_gen alone, so a
// periodic re-apply does not empty every CPU's cache: the same config again, a new next-hop MAC
// and MTU (read live by every packet). A drain does move it (a new Maglev table).
TEST_F(FlowCacheTest, UnchangedApplyKeepsTheCache) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string a = Establish(41012);
  EXPECT_EQ(BackendOf(ack(41012)), a);
  const uint32_t gen = CacheGen();
  EXPECT_EQ(gen % 2, 0u) << "apply() left the generation odd (the cache off)";
  Apply();
  EXPECT_EQ(CacheGen(), gen) << "an apply that changed nothing bumped the generation";
  for (Backend& be : service(config_, kWeb4, Protocol::kTcp, 80).backends) {
    std::array<uint8_t, 6> mac = be.next_hop_mac.bytes();
    mac[5] ^= 0x01;
    be.next_hop_mac = MacAddress(mac);
  }
  config_.node.mtu -= 8;
  Apply();
  EXPECT_EQ(CacheGen(), gen) << "a next-hop or MTU change bumped the generation";
  ASSERT_NO_FATAL_FAILURE(DeleteEntry(key_of(41012)));
  const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
  EXPECT_EQ(BackendOf(ack(41012)), a);
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows) << "the slot did not survive the re-apply";
  ASSERT_NO_FATAL_FAILURE(SetWebBackend(a, BackendState::kDrained));
  EXPECT_NE(CacheGen(), gen) << "a backend change did not bump the generation";
}

// A restarted raild rewrites the pinned tables while the old program is still attached (until
// the new one replaces it): rail_flow_cache_gen is pinned, so the new plane's bumps reach the
// old program's slots, and a flow the new tables re-pick is followed by the old program at once.
TEST_F(FlowCacheTest, OldProgramSeesTheRestartedPlanesChanges) {
  PinDir dir("flow-cache-test");
  dataplane::XdpOptions options = Options();
  ASSERT_NO_FATAL_FAILURE(LoadPinned(dir, options));
  const std::string a = Establish(41011);
  EXPECT_EQ(BackendOf(ack(41011)), a);
  const rail_flow_cache_slot before = Slot(key_of(41011));
  ASSERT_TRUE(same_key(before.key, key_of(41011))) << "the flow was not cached";

  // The new plane's first apply() rewrites rail_services (what it holds is unknown after a
  // restart): both generations move, and the old program refills its slot under the new one
  // (the first ACK restamps the entry on the general path, the second refills the slot).
  auto restarted = XdpDataPlane::load(options);
  ASSERT_TRUE(restarted) << restarted.error().describe();
  auto applied = (*restarted)->apply(config_);
  ASSERT_TRUE(applied) << applied.error().describe();
  EXPECT_EQ(BackendOf(ack(41011)), a);
  EXPECT_EQ(BackendOf(ack(41011)), a);
  const rail_flow_cache_slot refilled = Slot(key_of(41011));
  ASSERT_TRUE(same_key(refilled.key, key_of(41011)));
  ASSERT_NE(refilled.cache_gen, before.cache_gen) << "the slot was not refilled";
  // A drain: a new table, and rail_flow_cache_gen moves again.
  ASSERT_NO_FATAL_FAILURE(MarkWebBackend(a, BackendState::kDrained));
  applied = (*restarted)->apply(config_);
  ASSERT_TRUE(applied) << applied.error().describe();
  const std::string b = BackendVia((*restarted)->prog_fd(), syn(41011));
  ASSERT_NE(b, a) << "a SYN went to a drained backend";
  EXPECT_EQ(BackendOf(ack(41011)), b) << "the old program kept its slot";
}

// The cache is sized per possible CPU and never pinned: a new program starts with it empty,
// while the connection table and the cache's generation are shared through the pins.
TEST_F(FlowCacheTest, CacheIsNotPinned) {
  PinDir dir("flow-cache-test");
  dataplane::XdpOptions options = Options();
  ASSERT_NO_FATAL_FAILURE(LoadPinned(dir, options));
  struct stat st {};
  EXPECT_EQ(stat((dir / "rail_conntrack4").c_str(), &st), 0);
  EXPECT_NE(stat((dir / "rail_flow_cache").c_str(), &st), 0) << "rail_flow_cache pinned";
  EXPECT_EQ(stat((dir / "rail_flow_cache_gen").c_str(), &st), 0);

  const int fd = plane_->map_fd("rail_flow_cache");
  ASSERT_GE(fd, 0);
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
  EXPECT_EQ(info.type, BPF_MAP_TYPE_ARRAY);
  EXPECT_EQ(info.value_size, sizeof(rail_flow_cache_slot));
  EXPECT_EQ(info.max_entries, uint32_t(libbpf_num_possible_cpus()) << RAIL_FLOW_CACHE_BITS);

  const std::string a = Establish(41008);
  EXPECT_TRUE(same_key(Slot(key_of(41008)).key, key_of(41008))) << "the flow was not cached";
  const uint32_t old_cache = map_id(fd);
  const uint32_t old_table = map_id(plane_->map_fd("rail_conntrack4"));
  plane_.reset();
  ASSERT_NO_FATAL_FAILURE(Load(options));
  EXPECT_NE(map_id(plane_->map_fd("rail_flow_cache")), old_cache);
  EXPECT_EQ(map_id(plane_->map_fd("rail_conntrack4")), old_table);
  EXPECT_EQ(Slot(key_of(41008)).key.proto, 0) << "the new program's cache is not empty";
  EXPECT_EQ(BackendOf(ack(41008)), a);
}

}  // namespace
}  // namespace rail::golden::flow_cache
