// Reference forwarder behaviour beyond single golden packets: config changes, counters,
// timeouts, spread over backends.
#include "core/forwarder/forwarder.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "golden/golden_world.h"

namespace rail::golden {
namespace {

constexpr uint64_t kSecond = 1'000'000'000ull;

// The backend address a TX verdict went to.
std::string sent_to(const Forwarder& f, const Verdict& v) {
  if (v.action != RAIL_VERDICT_TX || v.backend_id == kNoId) return "-";
  return f.state().backend(v.backend_id)->address.to_string();
}

TEST(Forwarder, RefusesABadConfigAndKeepsServingTheOldOne) {
  Forwarder f;
  ASSERT_TRUE(f.apply(sample_config()));
  std::vector<uint8_t> out;
  const Bytes syn = from_router(tcp4(kClient4, 40000, kWeb4, 80).syn().build());
  const std::string before = sent_to(f, f.process(syn, kSecond, out));
  ASSERT_NE(before, "-");

  LbConfig bad = sample_config();
  service(bad, kWeb4, Protocol::kTcp, 80).table_size = 1000;  // not prime
  service(bad, kGue4, Protocol::kTcp, 443).backends[1].name = "b1";
  service(bad, kGue4, Protocol::kTcp, 443).backends[2].name = "b1";  // duplicate identity
  const Status st = f.apply(bad);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("198.18.100.1:80/tcp: table size 1000 is not prime"),
            std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("backend identity 'b1' appears twice"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(sent_to(f, f.process(syn, 2 * kSecond, out)), before);
}

TEST(Forwarder, CountsEveryVerdictReasonServiceAndBackend) {
  Forwarder f;
  ASSERT_TRUE(f.apply(sample_config()));
  std::vector<uint8_t> out;
  const Bytes syn = from_router(tcp4(kClient4, 40000, kWeb4, 80).syn().build());
  const Bytes ack = from_router(tcp4(kClient4, 40000, kWeb4, 80).ack().build());
  const Bytes other = from_router(tcp4(kClient4, 40000, kNotVip4, 80).syn().build());
  const Bytes port22 = from_router(tcp4(kClient4, 40000, kWeb4, 22).syn().build());
  Verdict v1 = f.process(syn, kSecond, out);
  Verdict v2 = f.process(ack, kSecond, out);
  f.process(other, kSecond, out);
  f.process(port22, kSecond, out);
  f.process(port22, kSecond, out);

  const auto& c = f.counters();
  EXPECT_EQ(c[RAIL_CNT_RX], 5u);
  EXPECT_EQ(c[RAIL_CNT_TX], 2u);
  EXPECT_EQ(c[RAIL_CNT_PASS], 1u);
  EXPECT_EQ(c[RAIL_CNT_DROP], 2u);
  EXPECT_EQ(c[rail_drop_counter(RAIL_DROP_NO_SERVICE)], 2u);
  EXPECT_EQ(c[RAIL_CNT_NEW_FLOWS], 1u);
  EXPECT_EQ(c[RAIL_CNT_CONN_HITS], 1u);
  EXPECT_TRUE(v1.new_flow);
  EXPECT_FALSE(v2.new_flow);
  const TrafficCounters& s = f.service_counters().at(v1.service_id);
  EXPECT_EQ(s.packets, 2u);
  EXPECT_EQ(s.bytes, syn.size() + ack.size());
  EXPECT_EQ(s.new_flows, 1u);
  EXPECT_EQ(f.backend_counters().at(v1.backend_id).packets, 2u);
}

TEST(Forwarder, IdleConnectionsExpireAndFollowTheCurrentTable) {
  ForwarderOptions options;
  options.conn_timeouts.tcp_ns = 300 * kSecond;
  Forwarder f(options);
  ASSERT_TRUE(f.apply(sample_config()));
  std::vector<uint8_t> out;
  // 198.18.0.10:40003 -> web4:80 picks b4 now and b5 once b5 joins (golden_cases.cc).
  const Bytes syn = from_router(tcp4(kClient4, 40003, kWeb4, 80).syn().build());
  const Bytes ack = from_router(tcp4(kClient4, 40003, kWeb4, 80).ack().build());
  EXPECT_EQ(sent_to(f, f.process(syn, kSecond, out)), "198.18.2.4");
  LbConfig more = sample_config();
  Backend b5;
  b5.address = b(5);
  b5.next_hop_mac = mac_of(b(5));
  service(more, kWeb4, Protocol::kTcp, 80).backends.push_back(b5);
  ASSERT_TRUE(f.apply(more));
  EXPECT_EQ(sent_to(f, f.process(ack, 200 * kSecond, out)), "198.18.2.4");  // within timeout
  // 300 s after its last packet the entry is gone: the next packet follows the new table.
  const Verdict late = f.process(ack, 500 * kSecond + 1, out);
  EXPECT_EQ(sent_to(f, late), "198.18.2.5");
  EXPECT_TRUE(late.new_flow);
}

TEST(Forwarder, BackendIdsSurviveReconfiguration) {
  Forwarder f;
  ASSERT_TRUE(f.apply(sample_config()));
  std::vector<uint8_t> out;
  const Bytes syn = from_router(tcp4(kClient4, 40000, kWeb4, 80).syn().build());
  const Verdict before = f.process(syn, kSecond, out);
  LbConfig reordered = sample_config();
  auto& backends = service(reordered, kWeb4, Protocol::kTcp, 80).backends;
  std::reverse(backends.begin(), backends.end());  // order must not matter
  ASSERT_TRUE(f.apply(reordered));
  const Verdict after = f.process(syn, 2 * kSecond, out);
  EXPECT_EQ(after.backend_id, before.backend_id);
}

TEST(Forwarder, SpreadsNewFlowsEvenlyOverBackends) {
  Forwarder f;
  ASSERT_TRUE(f.apply(sample_config()));
  std::vector<uint8_t> out;
  std::mt19937 rng(7);
  std::map<std::string, int> per_backend;
  const int flows = 20000;
  for (int i = 0; i < flows; ++i) {
    const IpAddress client = IpAddress::v4(0xC6120000u | (rng() & 0x1ffffu));  // 198.18.0.0/15
    const uint16_t port = uint16_t(32768 + rng() % 28232);
    ++per_backend[sent_to(
        f, f.process(from_router(tcp4(client, port, kWeb4, 80).syn().build()), kSecond, out))];
  }
  ASSERT_EQ(per_backend.size(), 4u);
  for (const auto& [backend, n] : per_backend) {
    // Table size 251 over 4 backends: shares 62 or 63 entries of 251 (~25%); 20000 flows give
    // a binomial sd of ~0.3 points. Allow 2 points.
    EXPECT_NEAR(double(n) / flows, 0.25, 0.02) << backend;
  }
}

}  // namespace
}  // namespace rail::golden
