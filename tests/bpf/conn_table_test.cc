// The balancer's connection tables, one per family (rail_conntrack4 with a 16-byte key,
// rail_conntrack6): pinned, they outlive the loader; the single two-family table of earlier
// builds is moved over at load; a table of another layout is replaced.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "balancer_pair.h"
#include "dataplane/bpffs.h"
#include "dataplane/xdp_conntrack.h"
#include "golden/golden_world.h"
#include "pin_dir.h"

namespace rail::golden {
namespace {

std::unique_ptr<XdpDataPlane> LoadPinned(const std::string& dir) {
  dataplane::XdpOptions options;
  options.conn_capacity = 1 << 12;
  options.pin_dir = dir;
  auto plane = XdpDataPlane::load(options);
  EXPECT_TRUE(plane) << plane.error().describe();
  return plane ? std::move(*plane) : nullptr;
}

uint32_t RunFrame(XdpDataPlane& plane, const Bytes& frame) {
  auto run = bpftest::test_run(plane.prog_fd(), frame, 1);
  EXPECT_TRUE(run) << run.error().describe();
  return run ? run->retval : uint32_t(XDP_ABORTED);
}

// Every entry of a connection table.
template <typename Key>
std::vector<std::pair<Key, rail_conn>> Entries(int fd) {
  std::vector<std::pair<Key, rail_conn>> out;
  Key key{}, next{};
  const Key* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    rail_conn conn{};
    EXPECT_EQ(bpf_map_lookup_elem(fd, &next, &conn), 0);
    out.emplace_back(next, conn);
    key = next;
    prev = &key;
  }
  return out;
}

// A connection table as builds before the per-family tables pinned it.
int CreateLegacyTable(uint32_t value_size) {
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_COMMON_LRU);
  return bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "rail_conntrack", sizeof(rail_flow_key), value_size,
                        1 << 12, &opts);
}

const Bytes kSyn4 = from_router(tcp4(kClient4, 40000, kWeb4, 80).syn().build());
const Bytes kAck4 = from_router(tcp4(kClient4, 40000, kWeb4, 80).ack().build());
const Bytes kSyn6 = from_router(tcp6(kClient6, 40000, kWeb6, 80).syn().build());
const Bytes kAck6 = from_router(tcp6(kClient6, 40000, kWeb6, 80).ack().build());

TEST(ConnTableTest, PinnedTablesOfBothFamiliesOutliveTheLoader) {
  PinDir dir("conn-pin-test");
  {
    auto first = LoadPinned(dir.path());
    ASSERT_TRUE(first);
    ASSERT_TRUE(first->apply(sample_config()));
    EXPECT_EQ(RunFrame(*first, kSyn4), XDP_TX);
    EXPECT_EQ(RunFrame(*first, kSyn6), XDP_TX);
  }
  auto second = LoadPinned(dir.path());
  ASSERT_TRUE(second);
  const auto v4 = Entries<rail_flow_key4>(second->map_fd("rail_conntrack4"));
  const auto v6 = Entries<rail_flow_key>(second->map_fd("rail_conntrack6"));
  ASSERT_EQ(v4.size(), 1u) << "the IPv4 entry of the first load is gone";
  ASSERT_EQ(v6.size(), 1u) << "the IPv6 entry of the first load is gone";
  EXPECT_EQ(v4[0].first.sport, htons(40000));
  EXPECT_EQ(v4[0].first.proto, IPPROTO_TCP);
  EXPECT_EQ(v6[0].first.family, RAIL_AF_INET6);
}

// An upgrade from a build with one rail_conntrack for both families: its entries land in the
// per-family tables, the old pin goes, and both flows' next packets are connection hits.
TEST(ConnTableTest, TheTwoFamilyTableOfAnOlderBuildIsMovedOver) {
  PinDir dir("conn-legacy-test");
  std::vector<std::pair<rail_flow_key, rail_conn>> legacy;
  {  // entries as the old build made them: the flows' SYNs through this build, keys widened
    auto plane = LoadPinned(dir.path());
    ASSERT_TRUE(plane);
    ASSERT_TRUE(plane->apply(sample_config()));
    ASSERT_EQ(RunFrame(*plane, kSyn4), XDP_TX);
    ASSERT_EQ(RunFrame(*plane, kSyn6), XDP_TX);
    for (const auto& [k4, conn] : Entries<rail_flow_key4>(plane->map_fd("rail_conntrack4"))) {
      rail_flow_key k{};
      k.src[0] = k4.src;
      k.dst[0] = k4.dst;
      k.sport = k4.sport;
      k.dport = k4.dport;
      k.proto = k4.proto;
      k.family = RAIL_AF_INET;
      legacy.emplace_back(k, conn);
    }
    for (const auto& entry : Entries<rail_flow_key>(plane->map_fd("rail_conntrack6")))
      legacy.push_back(entry);
  }
  ASSERT_EQ(legacy.size(), 2u);
  // The old build had neither per-family table.
  ASSERT_EQ(unlink((dir / "rail_conntrack4").c_str()), 0);
  ASSERT_EQ(unlink((dir / "rail_conntrack6").c_str()), 0);
  const int old_table = CreateLegacyTable(sizeof(rail_conn));
  ASSERT_GE(old_table, 0);
  for (const auto& [k, conn] : legacy)
    ASSERT_EQ(bpf_map_update_elem(old_table, &k, &conn, BPF_ANY), 0);
  ASSERT_EQ(bpf_obj_pin(old_table, (dir / "rail_conntrack").c_str()), 0);
  close(old_table);

  auto plane = LoadPinned(dir.path());
  ASSERT_TRUE(plane);
  struct stat st;
  EXPECT_NE(stat((dir / "rail_conntrack").c_str(), &st), 0) << "the old table is still pinned";
  const auto v4 = Entries<rail_flow_key4>(plane->map_fd("rail_conntrack4"));
  const auto v6 = Entries<rail_flow_key>(plane->map_fd("rail_conntrack6"));
  ASSERT_EQ(v4.size(), 1u);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v4[0].first.src, legacy[0].first.src[0]);
  EXPECT_EQ(v4[0].first.dport, legacy[0].first.dport);
  EXPECT_EQ(v4[0].second.backend_id, legacy[0].second.backend_id);
  EXPECT_EQ(std::memcmp(&v6[0].first, &legacy[1].first, sizeof(rail_flow_key)), 0);
  EXPECT_EQ(v6[0].second.backend_id, legacy[1].second.backend_id);

  ASSERT_TRUE(plane->apply(sample_config()));
  auto before = plane->stats();
  ASSERT_TRUE(before);
  EXPECT_EQ(RunFrame(*plane, kAck4), XDP_TX);
  EXPECT_EQ(RunFrame(*plane, kAck6), XDP_TX);
  auto after = plane->stats();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->counters[RAIL_CNT_CONN_HITS] - before->counters[RAIL_CNT_CONN_HITS], 2u);
  EXPECT_EQ(after->counters[RAIL_CNT_NEW_FLOWS] - before->counters[RAIL_CNT_NEW_FLOWS], 0u);
}

// More old entries than one CPU's share of the new IPv4 table (capacity / possible CPUs): an
// insert from user space evicts within the calling CPU's share, so the copy must spread them
// over the CPUs. Every entry that fits the online CPUs' shares must arrive.
TEST(ConnTableTest, AnOldTableLargerThanOneCpusShareIsMovedWhole) {
  PinDir dir("conn-legacy-many-test");
  constexpr uint32_t kCapacity = 1 << 12;
  const int possible = libbpf_num_possible_cpus();
  ASSERT_GT(possible, 0);
  const uint32_t share = kCapacity / uint32_t(possible);
  cpu_set_t online;
  ASSERT_EQ(sched_getaffinity(0, sizeof(online), &online), 0);
  const uint32_t fit = share * uint32_t(CPU_COUNT(&online));
  const uint32_t flows = std::min<uint32_t>(fit, share + share / 2);  // > one share if >1 CPU
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_COMMON_LRU);
  const int old_table = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "rail_conntrack",
                                       sizeof(rail_flow_key), sizeof(rail_conn), 1 << 16, &opts);
  ASSERT_GE(old_table, 0);
  for (uint32_t i = 0; i < flows; ++i) {
    rail_flow_key k{};
    k.src[0] = htonl(0xc6120000u + i);  // 198.18.x.y
    k.dst[0] = htonl(0xc6126401u);
    k.sport = htons(uint16_t(10000 + i % 50000));
    k.dport = htons(80);
    k.proto = IPPROTO_TCP;
    k.family = RAIL_AF_INET;
    rail_conn conn{};
    conn.backend_id = i % 7;
    ASSERT_EQ(bpf_map_update_elem(old_table, &k, &conn, BPF_ANY), 0) << i;
  }
  ASSERT_EQ(bpf_obj_pin(old_table, (dir / "rail_conntrack").c_str()), 0);
  close(old_table);
  dataplane::XdpOptions options;
  options.conn_capacity = kCapacity;
  options.pin_dir = dir.path();
  auto plane = XdpDataPlane::load(options);
  ASSERT_TRUE(plane) << plane.error().describe();
  EXPECT_EQ((*plane)->legacy_flows_moved(), flows);
  EXPECT_EQ(Entries<rail_flow_key4>((*plane)->map_fd("rail_conntrack4")).size(), flows)
      << "entries were evicted by the copy (share " << share << ", possible CPUs " << possible
      << ")";
}

// A per-CPU LRU table's size is rounded up to a multiple of the possible CPUs by the kernel; a
// capacity that is not one must still let the next load reuse the pinned tables.
TEST(ConnTableTest, ACapacityNotAMultipleOfTheCpusStillReusesThePins) {
  PinDir dir("conn-odd-size-test");
  dataplane::XdpOptions options;
  options.conn_capacity = 4097;
  options.conn6_capacity = 1001;
  options.pin_dir = dir.path();
  {
    auto first = XdpDataPlane::load(options);
    ASSERT_TRUE(first) << first.error().describe();
    ASSERT_TRUE((*first)->apply(sample_config()));
    ASSERT_EQ(RunFrame(**first, kSyn4), XDP_TX);
  }
  auto second = XdpDataPlane::load(options);
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_EQ(Entries<rail_flow_key4>((*second)->map_fd("rail_conntrack4")).size(), 1u);
}

// The flow cache's trust window: the option, capped by the refresh interval and half the
// shortest idle timeout, in ticks of 2^RAIL_FLOW_CACHE_TICK_SHIFT ns; 0 only when turned off.
TEST(ConnTableTest, TheFlowCacheWindowIsCappedByRefreshAndTimeouts) {
  constexpr uint64_t kTick = 1ull << RAIL_FLOW_CACHE_TICK_SHIFT;
  constexpr uint64_t kSecond = 1'000'000'000ull;
  EXPECT_EQ(dataplane::flow_cache_ticks(0, kSecond, 300 * kSecond, 30 * kSecond), 0u);
  EXPECT_EQ(dataplane::flow_cache_ticks(kSecond, kSecond, 300 * kSecond, 30 * kSecond),
            kSecond / kTick);
  EXPECT_EQ(dataplane::flow_cache_ticks(10 * kSecond, kSecond, 300 * kSecond, 30 * kSecond),
            kSecond / kTick);  // never longer than the refresh interval
  EXPECT_EQ(dataplane::flow_cache_ticks(kSecond, kSecond, 300 * kSecond, kSecond / 2),
            kSecond / 4 / kTick);  // half the shortest timeout
  EXPECT_EQ(dataplane::flow_cache_ticks(100 * kTick, kSecond, 300 * kSecond, 30 * kSecond), 100u);
  EXPECT_EQ(dataplane::flow_cache_ticks(kTick + kTick / 2, kSecond, 300 * kSecond, 30 * kSecond),
            1u);  // rounded down: a slot is used for under trust_ns
  // Under one tick there is no window a tick-stamped slot could keep: the cache is off.
  EXPECT_EQ(dataplane::flow_cache_ticks(kTick - 1, kSecond, 300 * kSecond, 30 * kSecond), 0u);
  EXPECT_EQ(dataplane::flow_cache_ticks(kSecond, kSecond, 300 * kSecond, kTick), 0u);
}

// A hit refreshes its entry once it is 1 s old, or half the shortest timeout when that is less:
// a flow with packets never outlives its entry, whatever the timeouts.
TEST(ConnTableTest, TheRefreshIntervalIsCappedByTheTimeouts) {
  constexpr uint64_t kSecond = 1'000'000'000ull;
  EXPECT_EQ(dataplane::conn_refresh_ns(300 * kSecond, 30 * kSecond), kSecond);
  EXPECT_EQ(dataplane::conn_refresh_ns(300 * kSecond, kSecond), kSecond / 2);
  EXPECT_EQ(dataplane::conn_refresh_ns(kSecond / 5, 30 * kSecond), kSecond / 10);
}

// Tables whose entries have another layout (an older rail_conn; a per-family table of another
// value size) do not stop the load: they are replaced, and forwarding works.
TEST(ConnTableTest, TablesPinnedWithAnotherLayoutAreReplaced) {
  PinDir dir("conn-layout-test");
  const int legacy = CreateLegacyTable(16);  // rail_conn before the fast path
  ASSERT_GE(legacy, 0);
  ASSERT_EQ(bpf_obj_pin(legacy, (dir / "rail_conntrack").c_str()), 0);
  close(legacy);
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_COMMON_LRU);
  const int v4 = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "rail_conntrack4", sizeof(rail_flow_key4),
                                16, 1 << 12, &opts);
  ASSERT_GE(v4, 0);
  ASSERT_EQ(bpf_obj_pin(v4, (dir / "rail_conntrack4").c_str()), 0);
  close(v4);

  auto plane = LoadPinned(dir.path());
  ASSERT_TRUE(plane);
  struct stat st;
  EXPECT_NE(stat((dir / "rail_conntrack").c_str(), &st), 0);
  ASSERT_TRUE(plane->apply(sample_config()));
  EXPECT_EQ(RunFrame(*plane, kSyn4), XDP_TX);
  const int pinned = bpf_obj_get((dir / "rail_conntrack4").c_str());
  ASSERT_GE(pinned, 0);
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  EXPECT_EQ(bpf_obj_get_info_by_fd(pinned, &info, &len), 0);
  close(pinned);
  EXPECT_EQ(info.value_size, sizeof(rail_conn));
  EXPECT_EQ(Entries<rail_flow_key4>(plane->map_fd("rail_conntrack4")).size(), 1u)
      << "the SYN's entry is not in the new table";
}

}  // namespace
}  // namespace rail::golden
