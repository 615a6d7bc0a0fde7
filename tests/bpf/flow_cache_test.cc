// The XDP balancer's per-CPU flow cache: hits, expiry, collisions, negative slots and CPU moves.
#include <sched.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "flow_cache_fixture.h"

namespace rail::golden::flow_cache {
namespace {

// With the table entry gone, only the slot can say where the flow goes: no new flow counted.
TEST_F(FlowCacheTest, HitForwardsWithoutTheConnectionTable) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string a = Establish(41001);
  ASSERT_TRUE(is_address(a)) << a;
  const rail_flow_cache_slot slot = Slot(key_of(41001));
  EXPECT_TRUE(same_key(slot.key, key_of(41001))) << "this CPU's slot does not hold the flow";
  EXPECT_NE(slot.backend_id, RAIL_NO_BACKEND) << "the slot is negative";
  ASSERT_NO_FATAL_FAILURE(DeleteEntry(key_of(41001)));
  const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
  EXPECT_EQ(BackendOf(ack(41001)), a);
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows) << "the ACK was not served from the slot";
}

// Control: with the cache off, the same ACK finds no entry and is a new flow.
TEST_F(FlowCacheTest, CacheOffLooksTheTableUp) {
  ASSERT_NO_FATAL_FAILURE(Load(0));
  const std::string a = Establish(41002);
  ASSERT_NO_FATAL_FAILURE(DeleteEntry(key_of(41002)));
  const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
  EXPECT_EQ(BackendOf(ack(41002)), a);  // Maglev picks it again
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows + 1);
}

TEST_F(FlowCacheTest, ExpiredSlotLooksTheTableUp) {
  ASSERT_NO_FATAL_FAILURE(Load(kShortTrustNs));
  ExpectNoSlotTrustedAfterTheWindow(41003, "an expired slot was trusted");
}

// The default window (1 s) is capped at half the shortest idle timeout: 30 ms here.
TEST_F(FlowCacheTest, TrustWindowIsCappedByTheShortestTimeout) {
  dataplane::XdpOptions options = Options();
  options.conn_other_timeout_ns = 2 * kShortTrustNs;
  ASSERT_NO_FATAL_FAILURE(Load(options));
  ExpectNoSlotTrustedAfterTheWindow(41009, "slot trusted beyond the cap");
}

// A slot is stamped with its entry's last_seen, not the time of the packet that filled it, so
// it is trusted only while the entry is. Timeout 2 s: the window is the 1 s refresh interval, and
// a fill at 600 ms (the entry not refreshed yet) must not be trusted at 1300 ms.
TEST_F(FlowCacheTest, SlotIsStampedWithItsEntrysLastSeen) {
  dataplane::XdpOptions options = Options();
  options.conn_other_timeout_ns = 2'000'000'000;
  ASSERT_NO_FATAL_FAILURE(Load(options));
  const auto start = std::chrono::steady_clock::now();
  const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
  const std::string a = BackendOf(datagram(43000));  // a new flow: its entry, no slot
  ASSERT_TRUE(is_address(a)) << a;
  std::this_thread::sleep_until(start + 600ms);
  EXPECT_EQ(BackendOf(datagram(43000)), a);  // a table hit: fills the slot
  EXPECT_TRUE(same_key(Slot(udp_key_of(43000)).key, udp_key_of(43000))) << "not cached";
  ASSERT_NO_FATAL_FAILURE(DeleteEntry(udp_key_of(43000)));
  std::this_thread::sleep_until(start + 1300ms);
  EXPECT_EQ(BackendOf(datagram(43000)), a);  // Maglev picks it again
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows + 2) << "slot trusted past its entry's window";
}

// The first packet after a window refreshes its entry before refilling the slot when a slot
// stamped with the entry's last_seen would be stale at once (a window shorter than the refresh
// interval): the refilled slot is then trusted for a whole window again.
TEST_F(FlowCacheTest, RefillAfterTheWindowRefreshesTheEntry) {
  ASSERT_NO_FATAL_FAILURE(Load(600'000'000));  // window 600 ms, refresh interval 1 s
  const std::string a = Establish(41013);
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(BackendOf(ack(41013)), a);  // the slot is stale: the table, a refresh, a refill
  ASSERT_NO_FATAL_FAILURE(DeleteEntry(key_of(41013)));
  const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
  EXPECT_EQ(BackendOf(ack(41013)), a);
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows) << "the refilled slot was stale at once";
}

// While rail_flow_cache_gen is odd (user space writing the maps a slot depends on) no slot is
// used or filled: a flow whose entry is gone is a new flow, and a table hit leaves its slot as
// it was; once the generation is even again, slots are filled under the new value.
TEST_F(FlowCacheTest, NoSlotIsUsedWhileTheMapsAreWritten) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string a = Establish(41014);
  const rail_flow_cache_slot before = Slot(key_of(41014));
  ASSERT_TRUE(same_key(before.key, key_of(41014))) << "the flow was not cached";
  const int fd = plane_->map_fd("rail_flow_cache_gen");
  const uint32_t zero = 0;
  const uint32_t even = CacheGen(), odd = even + 1;
  ASSERT_EQ(even % 2, 0u) << "apply() left the generation odd";
  ASSERT_EQ(bpf_map_update_elem(fd, &zero, &odd, BPF_ANY), 0);
  ASSERT_NO_FATAL_FAILURE(DeleteEntry(key_of(41014)));
  const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
  EXPECT_EQ(BackendOf(ack(41014)), a);
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows + 1) << "a slot was used while writing";
  EXPECT_EQ(BackendOf(ack(41014)), a);  // a table hit now
  EXPECT_EQ(Slot(key_of(41014)).cache_gen, before.cache_gen) << "a slot was filled while writing";
  const uint32_t next = odd + 1;
  ASSERT_EQ(bpf_map_update_elem(fd, &zero, &next, BPF_ANY), 0);
  EXPECT_EQ(BackendOf(ack(41014)), a);
  EXPECT_NE(Slot(key_of(41014)).cache_gen, before.cache_gen) << "no fill after the writes";
}

// A flow served from its slot still refreshes its entry about once per window (the first packet
// after a window refreshes it and refills the slot), and the refresh interval is capped at half
// the shortest timeout: the entry of a live flow outlives an idle timeout of 400 ms, with the
// cache and without it (packets every 50 ms for 1 s).
TEST_F(FlowCacheTest, LiveFlowKeepsItsEntryUnderAShortTimeout) {
  for (const uint64_t trust_ns : {1'000'000'000ull, 0ull}) {
    dataplane::XdpOptions options = Options(trust_ns);
    options.conn_other_timeout_ns = 400'000'000;
    ASSERT_NO_FATAL_FAILURE(Load(options));
    const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
    const std::string a = BackendOf(datagram(43001));
    ASSERT_TRUE(is_address(a)) << a;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 1; i <= 20; ++i) {
      std::this_thread::sleep_until(start + i * 50ms);
      EXPECT_EQ(BackendOf(datagram(43001)), a) << "after " << i * 50 << " ms";
    }
    EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows + 1)
        << "the entry of a live flow expired (trust " << trust_ns << " ns)";
  }
}

// Two flows sharing one slot of this CPU, on different backends: the first to fill it keeps it
// for its window (a fresh slot is not taken by another flow, so a large working set does not
// thrash), the other is forwarded from the table, and neither gets the other's backend.
TEST_F(FlowCacheTest, CollidingFlowsKeepTheirOwnBackends) {
  config_.node.hash_seed = 0x5eed1234u;  // not the default: the program must use the node's
  ASSERT_NO_FATAL_FAILURE(Load());
  const uint32_t cpu = uint32_t(sched_getcpu());
  std::map<uint32_t, uint16_t> first_port_of_index;
  uint16_t p1 = 0, p2 = 0;
  std::string be1, be2;
  for (uint32_t port = 20000; port < 65000 && !p1; ++port) {
    const rail_flow_key4 k = key_of(uint16_t(port));
    const uint32_t index = rail_flow_cache_index(&k, config_.node.hash_seed, cpu);
    auto [it, fresh] = first_port_of_index.emplace(index, uint16_t(port));
    if (fresh) continue;
    const std::string x = BackendOf(syn(it->second)), y = BackendOf(syn(uint16_t(port)));
    if (x != y) p1 = it->second, p2 = uint16_t(port), be1 = x, be2 = y;
  }
  ASSERT_NE(p1, 0) << "no colliding pair on different backends";
  ASSERT_EQ(Establish(p1), be1);
  ASSERT_EQ(Establish(p2), be2);
  for (int round = 0; round < 4; ++round) {
    EXPECT_EQ(BackendOf(ack(p1)), be1) << "round " << round << ", port " << p1;
    EXPECT_EQ(BackendOf(ack(p2)), be2) << "round " << round << ", port " << p2;
    EXPECT_TRUE(same_key(Slot(key_of(p1)).key, key_of(p1)))
        << "port " << p2 << " took the fresh slot of port " << p1
        << ", or the program does not use slot rail_flow_cache_index(key, hash_seed, cpu)";
  }
  ASSERT_NO_FATAL_FAILURE(DeleteEntry(key_of(p1)));
  const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
  EXPECT_EQ(BackendOf(ack(p1)), be1);
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows) << "port " << p1 << " not served from its slot";
}

// A flow re-established on another CPU follows the new backend on the first CPU at once: the
// drain's apply() bumped rail_flow_cache_gen, and a slot only ever holds the backend the current
// Maglev table picks, so the slot the first CPU refills after the drain is negative and no CPU
// keeps an older pick in a slot it still trusts.
TEST_F(FlowCacheTest, FlowMovedToAnotherCpuFollowsTheTable) {
  if (cpus_.size() < 2) GTEST_SKIP() << "needs 2 CPUs";
  ASSERT_NO_FATAL_FAILURE(Load());  // the default 1 s window: the test needs no sleep
  const int first = cpus_[0], second = cpus_[1];
  const std::string a = Establish(41007);
  EXPECT_EQ(BackendOf(ack(41007)), a);
  EXPECT_TRUE(same_key(Slot(key_of(41007)).key, key_of(41007))) << "the flow was not cached";
  ASSERT_NO_FATAL_FAILURE(SetWebBackend(a, BackendState::kDrained));
  EXPECT_EQ(BackendOf(ack(41007)), a) << "a drained backend keeps its flows";
  EXPECT_EQ(Slot(key_of(41007)).backend_id, RAIL_NO_BACKEND) << "the refill is not negative";
  ASSERT_NO_FATAL_FAILURE(pin_to(second));
  const std::string b = BackendOf(syn(41007));
  ASSERT_NE(b, a) << "a SYN went to a drained backend";
  EXPECT_EQ(BackendOf(ack(41007)), b);
  EXPECT_EQ(BackendOf(ack(41007)), b);
  ASSERT_NO_FATAL_FAILURE(pin_to(first));
  EXPECT_EQ(BackendOf(ack(41007)), b) << "CPU " << first << " used its old slot";
}

// A flow its entry keeps on a backend Maglev no longer picks (here a drained one) is forwarded
// from the table: its slot is negative (look the table up, do not check again), never a copy.
TEST_F(FlowCacheTest, FlowOffItsMaglevBackendGetsANegativeSlot) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string a = Establish(41010);
  ASSERT_NO_FATAL_FAILURE(SetWebBackend(a, BackendState::kDrained));
  EXPECT_EQ(BackendOf(ack(41010)), a) << "a drained backend keeps its flows";
  EXPECT_EQ(BackendOf(ack(41010)), a);
  const rail_flow_cache_slot slot = Slot(key_of(41010));
  EXPECT_TRUE(same_key(slot.key, key_of(41010))) << "no slot for the flow";
  EXPECT_EQ(slot.backend_id, RAIL_NO_BACKEND) << "the drained flow's slot is positive";
  ASSERT_NO_FATAL_FAILURE(DeleteEntry(key_of(41010)));
  const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
  EXPECT_NE(BackendOf(ack(41010)), a) << "the drained flow was served from a slot";
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows + 1);
}

}  // namespace
}  // namespace rail::golden::flow_cache
