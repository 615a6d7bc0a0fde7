// Test fixture for the XDP balancer's per-CPU flow cache (flow_cache_test.cc,
// flow_cache_change_test.cc): one data plane, the test thread pinned to one CPU, and readers
// for the slot of a flow and the backend a frame is sent to.
#pragma once

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
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "balancer_pair.h"
#include "cpu_pin.h"
#include "dataplane/bpffs.h"
#include "golden/golden_world.h"
#include "pin_dir.h"

namespace rail::golden::flow_cache {

using namespace std::chrono_literals;

constexpr uint64_t kShortTrustNs = 30'000'000;  // 30 ms: a few jiffies at any CONFIG_HZ
constexpr auto kPastShortTrust = 200ms;
inline const IpAddress kCacheVip = ip("198.18.100.9");  // tcp/any (+ tcp/8080 in one test), GRE

inline Bytes syn(uint16_t sport, const IpAddress& vip = kWeb4, uint16_t dport = 80) {
  return from_router(tcp4(kClient4, sport, vip, dport).syn().build());
}
inline Bytes ack(uint16_t sport, const IpAddress& vip = kWeb4, uint16_t dport = 80) {
  return from_router(tcp4(kClient4, sport, vip, dport).ack().build());
}

inline rail_flow_key4 key_of(uint16_t sport, const IpAddress& vip = kWeb4, uint16_t dport = 80) {
  rail_flow_key4 k{};
  k.src = htonl(kClient4.v4_host_order());
  k.dst = htonl(vip.v4_host_order());
  k.sport = htons(sport);
  k.dport = htons(dport);
  k.proto = IPPROTO_TCP;
  return k;
}

// A UDP datagram of client:sport -> kWeb4:53 (udp/any, IPIP) and its key.
inline Bytes datagram(uint16_t sport) {
  return from_router(udp4(kClient4, sport, kWeb4, 53).build());
}
inline rail_flow_key4 udp_key_of(uint16_t sport) {
  rail_flow_key4 k = key_of(sport, kWeb4, 53);
  k.proto = IPPROTO_UDP;
  return k;
}

// BackendOf() named a backend (an address), not a verdict.
inline bool is_address(const std::string& backend) {
  return static_cast<bool>(IpAddress::parse(backend));
}

inline bool same_key(const rail_flow_key4& a, const rail_flow_key4& b) {
  return a.src == b.src && a.dst == b.dst && a.sport == b.sport && a.dport == b.dport &&
         a.proto == b.proto;
}

inline Backend backend_at(const IpAddress& address) {
  Backend be;
  be.address = address;
  be.next_hop_mac = mac_of(address);
  return be;
}

inline Service gre_service(const IpAddress& vip, uint16_t port, std::vector<IpAddress> backends) {
  Service s;
  s.vip = vip;
  s.protocol = Protocol::kTcp;
  s.port = port;
  s.encap = Encap::kGre;
  s.table_size = kTableSize;
  for (const IpAddress& a : backends) s.backends.push_back(backend_at(a));
  return s;
}

inline uint32_t map_id(int fd) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

// One data plane with sample_config(); the test thread pinned to one CPU for the whole test.
class FlowCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(cpus_.empty()); }

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
  std::string BackendOf(const Bytes& frame) { return BackendVia(plane_->prog_fd(), frame); }
  // The same through the program `prog_fd` (another plane's).
  static std::string BackendVia(int prog_fd, const Bytes& frame) {
    auto run = bpftest::test_run(prog_fd, frame);
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

  // rail_flow_cache_gen as the program reads it.
  uint32_t CacheGen() {
    const uint32_t zero = 0;
    uint32_t gen = 0;
    EXPECT_EQ(bpf_map_lookup_elem(plane_->map_fd("rail_flow_cache_gen"), &zero, &gen), 0);
    return gen;
  }

  // Sets the backend of kWeb4 tcp/80 whose address text is `address` to `state` in config_;
  // SetWebBackend also applies it.
  void MarkWebBackend(const std::string& address, BackendState state) {
    int found = 0;
    for (Backend& be : service(config_, kWeb4, Protocol::kTcp, 80).backends)
      if (be.address.to_string() == address) be.state = state, ++found;
    ASSERT_EQ(found, 1) << "no backend " << address;
  }
  void SetWebBackend(const std::string& address, BackendState state) {
    ASSERT_NO_FATAL_FAILURE(MarkWebBackend(address, state));
    Apply();
  }

  // Loads with maps pinned in `dir`; `options` gets the pin directory.
  void LoadPinned(const PinDir& dir, dataplane::XdpOptions& options) {
    options.pin_dir = dir.path();
    ASSERT_NO_FATAL_FAILURE(Load(options));
  }

  std::vector<int> cpus_ = allowed_cpus();  // before pin_ narrows them
  ScopedCpuPin pin_;                        // on cpus_.front(), restored at the end
  LbConfig config_ = sample_config();
  std::unique_ptr<XdpDataPlane> plane_;
};

}  // namespace rail::golden::flow_cache
