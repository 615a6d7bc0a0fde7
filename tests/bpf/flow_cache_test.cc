// The XDP balancer's per-CPU flow cache: hits, expiry, write-through, and slots it must ignore.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "balancer_pair.h"
#include "dataplane/bpffs.h"
#include "golden/golden_world.h"

namespace rail::golden {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kShortTrustNs = 30'000'000;  // 30 ms: a few jiffies at any CONFIG_HZ
constexpr auto kPastShortTrust = 200ms;
const IpAddress kCacheVip = ip("198.18.100.9");  // tcp/any (+ tcp/8080 in one test), GRE

// The CPUs this thread may run on, lowest first.
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

// Moves the calling thread to `cpu` (BPF_PROG_TEST_RUN runs the program on the caller's CPU).
void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ASSERT_EQ(sched_setaffinity(0, sizeof(set), &set), 0) << "pin to CPU " << cpu;
  ASSERT_EQ(sched_getcpu(), cpu);
}

Bytes syn(uint16_t sport, const IpAddress& vip = kWeb4, uint16_t dport = 80) {
  return from_router(tcp4(kClient4, sport, vip, dport).syn().build());
}
Bytes ack(uint16_t sport, const IpAddress& vip = kWeb4, uint16_t dport = 80) {
  return from_router(tcp4(kClient4, sport, vip, dport).ack().build());
}

rail_flow_key4 key_of(uint16_t sport, const IpAddress& vip = kWeb4, uint16_t dport = 80) {
  rail_flow_key4 k{};
  k.src = htonl(kClient4.v4_host_order());
  k.dst = htonl(vip.v4_host_order());
  k.sport = htons(sport);
  k.dport = htons(dport);
  k.proto = IPPROTO_TCP;
  return k;
}

// BackendOf() named a backend (an address), not a verdict.
bool is_address(const std::string& backend) {
  return static_cast<bool>(IpAddress::parse(backend));
}

bool same_key(const rail_flow_key4& a, const rail_flow_key4& b) {
  return a.src == b.src && a.dst == b.dst && a.sport == b.sport && a.dport == b.dport &&
         a.proto == b.proto;
}

Backend backend_at(const IpAddress& address) {
  Backend be;
  be.address = address;
  be.next_hop_mac = mac_of(address);
  return be;
}

Service gre_service(const IpAddress& vip, uint16_t port, std::vector<IpAddress> backends) {
  Service s;
  s.vip = vip;
  s.protocol = Protocol::kTcp;
  s.port = port;
  s.encap = Encap::kGre;
  s.table_size = kTableSize;
  for (const IpAddress& a : backends) s.backends.push_back(backend_at(a));
  return s;
}

// The pin directory of one test, removed whatever happens (pins are files in bpffs).
struct PinDir {
  std::string path = "/sys/fs/bpf/rail-flow-cache-test-" + std::to_string(getpid());
  ~PinDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

uint32_t map_id(int fd) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

// One data plane with sample_config(); the test thread pinned to one CPU for the whole test.
class FlowCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sched_getaffinity(0, sizeof(saved_), &saved_), 0);
    cpus_ = allowed_cpus();
    ASSERT_FALSE(cpus_.empty());
    pin_to(cpus_.front());
  }
  void TearDown() override { sched_setaffinity(0, sizeof(saved_), &saved_); }

  // The test's options: the default trust window unless `trust_ns` is given.
  static dataplane::XdpOptions Options(std::optional<uint64_t> trust_ns = std::nullopt) {
    dataplane::XdpOptions options;
    options.conn_capacity = 1 << 12;
    options.frag_capacity = 1 << 10;
    if (trust_ns) options.flow_cache_trust_ns = *trust_ns;
    return options;
  }
  // Loads with `options` and applies config_.
  void Load(const dataplane::XdpOptions& options) {
    auto plane = XdpDataPlane::load(options);
    ASSERT_TRUE(plane) << plane.error().describe();
    plane_ = std::move(*plane);
    Apply();
  }
  void Load(std::optional<uint64_t> trust_ns = std::nullopt) { Load(Options(trust_ns)); }
  void Apply() {
    auto applied = plane_->apply(config_);
    ASSERT_TRUE(applied) << applied.error().describe();
  }

  // The backend `frame` is sent to: the outer IPv4 destination of the GRE frame, or why not.
  std::string BackendOf(const Bytes& frame) {
    auto run = bpftest::test_run(plane_->prog_fd(), frame);
    if (!run) return "test run failed: " + run.error().describe();
    if (verdict_of(run->retval) != RAIL_VERDICT_TX)
      return "not TX (XDP action " + std::to_string(run->retval) + ")";
    const Bytes& out = run->output;
    if (out.size() < 34 || out[12] != 0x08 || out[13] != 0x00) return "TX, not IPv4-encapsulated";
    return IpAddress::v4({out[30], out[31], out[32], out[33]}).to_string();
  }

  uint64_t Counter(rail_counter index) {
    auto stats = plane_->stats();
    EXPECT_TRUE(stats) << stats.error().describe();
    return stats ? stats->counters[index] : 0;
  }

  // SYN then ACK of client:sport -> vip:dport; returns the ACK's backend (the SYN's too).
  std::string Establish(uint16_t sport, const IpAddress& vip = kWeb4, uint16_t dport = 80) {
    const std::string first = BackendOf(syn(sport, vip, dport));
    const std::string second = BackendOf(ack(sport, vip, dport));
    EXPECT_EQ(first, second) << "the ACK after the SYN of port " << sport << " moved";
    return second;
  }

  void DeleteEntry(const rail_flow_key4& key) {
    ASSERT_EQ(bpf_map_delete_elem(plane_->map_fd("rail_conntrack4"), &key), 0)
        << "no rail_conntrack4 entry to delete";
  }

  // Establishes the flow of `sport` (cached by its ACK), deletes its table entry and waits
  // past a short window: the next ACK must find no slot it trusts, so it is a new flow (which
  // Maglev sends to the same backend).
  void ExpectNoSlotTrustedAfterTheWindow(uint16_t sport, const char* why) {
    const std::string a = Establish(sport);
    EXPECT_TRUE(same_key(Slot(key_of(sport)).key, key_of(sport))) << "the flow was not cached";
    ASSERT_NO_FATAL_FAILURE(DeleteEntry(key_of(sport)));
    std::this_thread::sleep_for(kPastShortTrust);
    const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
    EXPECT_EQ(BackendOf(ack(sport)), a);
    EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows + 1) << why;
  }

  // This CPU's slot for `key` (rail_flow_cache_index with the config's seed).
  rail_flow_cache_slot Slot(const rail_flow_key4& key) {
    rail_flow_cache_slot slot{};
    const uint32_t index =
        rail_flow_cache_index(&key, config_.node.hash_seed, uint32_t(sched_getcpu()));
    EXPECT_EQ(bpf_map_lookup_elem(plane_->map_fd("rail_flow_cache"), &index, &slot), 0);
    return slot;
  }

  // Sets the backend of kWeb4 tcp/80 whose address text is `address` to `state`.
  void SetWebBackend(const std::string& address, BackendState state) {
    int found = 0;
    for (Backend& be : service(config_, kWeb4, Protocol::kTcp, 80).backends)
      if (be.address.to_string() == address) be.state = state, ++found;
    ASSERT_EQ(found, 1) << "no backend " << address;
    Apply();
  }

  cpu_set_t saved_{};
  std::vector<int> cpus_;
  LbConfig config_ = sample_config();
  std::unique_ptr<XdpDataPlane> plane_;
};

// With the table entry gone, only the slot can say where the flow goes: no new flow counted.
TEST_F(FlowCacheTest, HitForwardsWithoutTheConnectionTable) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string a = Establish(41001);
  ASSERT_TRUE(is_address(a)) << a;
  const rail_flow_cache_slot slot = Slot(key_of(41001));
  EXPECT_TRUE(same_key(slot.key, key_of(41001))) << "this CPU's slot does not hold the flow";
  EXPECT_NE(slot.stamp, 0u);
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

// A hit refreshes its table entry only once the entry is lb_conn_refresh_ns (1 s) old, so with
// an idle timeout under 2 s the entry can expire while packets keep finding it: the slot must
// expire with the entry (it is stamped with the entry's last_seen, not the packet's time).
TEST_F(FlowCacheTest, SlotIsNotTrustedBeyondItsEntry) {
  dataplane::XdpOptions options = Options();
  options.conn_other_timeout_ns = 800'000'000;  // window: 400 ms
  ASSERT_NO_FATAL_FAILURE(Load(options));
  const Bytes datagram = from_router(udp4(kClient4, 43000, kWeb4, 53).build());
  const auto start = std::chrono::steady_clock::now();
  const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
  const std::string a = BackendOf(datagram);
  ASSERT_TRUE(is_address(a)) << a;
  ASSERT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows + 1);
  std::this_thread::sleep_until(start + 600ms);  // slot expired, entry not: a table hit
  EXPECT_EQ(BackendOf(datagram), a);
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows + 1);
  std::this_thread::sleep_until(start + 900ms);  // the entry is idle past its 800 ms
  EXPECT_EQ(BackendOf(datagram), a);             // Maglev picks it again
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows + 2) << "slot trusted past its entry";
}

// A SYN reusing a cached 5-tuple is sent elsewhere by Maglev: its ACK must follow it, not the
// slot the previous connection's ACK filled (write-through).
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

TEST_F(FlowCacheTest, DownBackendIsNotServedFromTheSlot) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string a = Establish(41005);
  ASSERT_NO_FATAL_FAILURE(SetWebBackend(a, BackendState::kDown));
  const std::string now = BackendOf(ack(41005));
  EXPECT_NE(now, a) << "ACK sent to a backend that is down";
  EXPECT_TRUE(is_address(now)) << now;  // still forwarded, to another one
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

// Two flows sharing one slot of this CPU, on different backends: each evicts the other, and a
// slot holding the other flow's key must never be used.
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
    EXPECT_TRUE(same_key(Slot(key_of(p1)).key, key_of(p1)))
        << "the program does not use slot rail_flow_cache_index(key, hash_seed, cpu)";
    EXPECT_EQ(BackendOf(ack(p2)), be2) << "round " << round << ", port " << p2;
    EXPECT_TRUE(same_key(Slot(key_of(p2)).key, key_of(p2)));
  }
}

// A flow re-established on another CPU follows the new backend on the first CPU at once: the
// drain's apply() bumped rail_flow_cache_gen, and a slot only ever holds the backend the current
// Maglev table picks, so no CPU can keep an older pick in a slot it still trusts.
TEST_F(FlowCacheTest, FlowMovedToAnotherCpuFollowsTheTable) {
  if (cpus_.size() < 2) GTEST_SKIP() << "needs 2 CPUs";
  ASSERT_NO_FATAL_FAILURE(Load());  // the default 1 s window: the test needs no sleep
  const int first = cpus_[0], second = cpus_[1];
  const std::string a = Establish(41007);
  EXPECT_EQ(BackendOf(ack(41007)), a);
  EXPECT_TRUE(same_key(Slot(key_of(41007)).key, key_of(41007))) << "the flow was not cached";
  ASSERT_NO_FATAL_FAILURE(SetWebBackend(a, BackendState::kDrained));
  ASSERT_NO_FATAL_FAILURE(pin_to(second));
  const std::string b = BackendOf(syn(41007));
  ASSERT_NE(b, a) << "a SYN went to a drained backend";
  EXPECT_EQ(BackendOf(ack(41007)), b);
  EXPECT_EQ(BackendOf(ack(41007)), b);
  ASSERT_NO_FATAL_FAILURE(pin_to(first));
  EXPECT_EQ(BackendOf(ack(41007)), b) << "CPU " << first << " used its old slot";
}

// A flow its entry keeps on a backend Maglev no longer picks (here a drained one) is forwarded
// from the table, never cached: a slot only holds what a new pick would also give.
TEST_F(FlowCacheTest, FlowOffItsMaglevBackendIsNotCached) {
  ASSERT_NO_FATAL_FAILURE(Load());
  const std::string a = Establish(41010);
  ASSERT_NO_FATAL_FAILURE(SetWebBackend(a, BackendState::kDrained));
  EXPECT_EQ(BackendOf(ack(41010)), a) << "a drained backend keeps its flows";
  EXPECT_EQ(BackendOf(ack(41010)), a);
  ASSERT_NO_FATAL_FAILURE(DeleteEntry(key_of(41010)));
  const uint64_t new_flows = Counter(RAIL_CNT_NEW_FLOWS);
  EXPECT_NE(BackendOf(ack(41010)), a) << "the drained flow was served from a slot";
  EXPECT_EQ(Counter(RAIL_CNT_NEW_FLOWS), new_flows + 1);
}

// The cache is sized per possible CPU and never pinned: a new program starts with it empty,
// while the connection table is shared through the pin.
TEST_F(FlowCacheTest, CacheIsNotPinned) {
  ASSERT_TRUE(dataplane::ensure_bpffs("/sys/fs/bpf"));
  PinDir dir;
  ASSERT_EQ(mkdir(dir.path.c_str(), 0700), 0);
  dataplane::XdpOptions options = Options();
  options.pin_dir = dir.path;
  ASSERT_NO_FATAL_FAILURE(Load(options));
  struct stat st {};
  EXPECT_EQ(stat((dir.path + "/rail_conntrack4").c_str(), &st), 0);
  EXPECT_NE(stat((dir.path + "/rail_flow_cache").c_str(), &st), 0) << "rail_flow_cache pinned";

  const int fd = plane_->map_fd("rail_flow_cache");
  ASSERT_GE(fd, 0);
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
  EXPECT_EQ(info.type, BPF_MAP_TYPE_ARRAY);
  EXPECT_EQ(info.value_size, sizeof(rail_flow_cache_slot));
  EXPECT_EQ(info.max_entries, uint32_t(libbpf_num_possible_cpus()) << RAIL_FLOW_CACHE_BITS);

  const std::string a = Establish(41008);
  EXPECT_NE(Slot(key_of(41008)).stamp, 0u);
  const uint32_t old_cache = map_id(fd);
  const uint32_t old_table = map_id(plane_->map_fd("rail_conntrack4"));
  plane_.reset();
  ASSERT_NO_FATAL_FAILURE(Load(options));
  EXPECT_NE(map_id(plane_->map_fd("rail_flow_cache")), old_cache);
  EXPECT_EQ(map_id(plane_->map_fd("rail_conntrack4")), old_table);
  EXPECT_EQ(Slot(key_of(41008)).stamp, 0u) << "the new program's cache is not empty";
  EXPECT_EQ(BackendOf(ack(41008)), a);
}

}  // namespace
}  // namespace rail::golden
