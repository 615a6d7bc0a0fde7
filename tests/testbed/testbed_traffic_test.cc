// The testbed end to end: real raild nodes behind an ECMP router, real backends, real
// connections from many client sources; backend and Rail-node failures (docs/testbed.md).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "rail_abi.h"
#include "testbed_client.h"
#include "tools/testbed/testbed.h"

namespace rail::testbed {
namespace {

using test::describe;
using test::spread;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Topology topology(const std::string& text) {
  auto t = parse_topology(text, "test.yaml");
  EXPECT_TRUE(t) << t.error().describe();
  return t ? *t : Topology{};
}

UpOptions options() {
  UpOptions o;
  o.progress = [](const std::string& line) { std::printf("[ testbed  ] %s\n", line.c_str()); };
  return o;
}

// Every backend answered, nothing failed.
void expect_all_backends(const std::map<std::string, int>& answers, int backends) {
  for (int j = 1; j <= backends; ++j)
    EXPECT_GT(answers.count(Testbed::backend_role(j)), 0u) << describe(answers);
  EXPECT_EQ(answers.count("fail"), 0u) << describe(answers);
  EXPECT_EQ(answers.count("wrong"), 0u) << describe(answers);
}

// The state ("up"/"down") of backend j in a VIP as node i's raild sees it.
std::string backend_state(const Testbed& tb, int node, const std::string& vip, int j) {
  auto v = tb.api_get(node, "/v1/vips/" + vip);
  if (!v) return "error: " + v.error().message;
  for (const auto& b : (*v)["backends"])
    if (b.value("name", "") == Testbed::backend_role(j)) return b.value("state", "?");
  return "missing";
}

TEST(TestbedTraffic, PlainIngressReachesEveryBackendWithDirectServerReturn) {
  const auto start = Clock::now();
  auto tb = Testbed::up(topology("name: tbplain\nrail_nodes: 2\nbackends: 4\n"), options());
  ASSERT_TRUE(tb) << tb.error().describe();
  std::printf("[ timing   ] up in %.2f s\n", seconds_since(start));

  // Replies must reach the router from the backends and never pass a Rail node.
  test::SourceCounter at_router, at_rail1, at_rail2;
  ASSERT_TRUE(at_router.open(*tb, "router", tb->vip(Family::kV4)));
  ASSERT_TRUE(at_rail1.open(*tb, "rail1", tb->vip(Family::kV4)));
  ASSERT_TRUE(at_rail2.open(*tb, "rail2", tb->vip(Family::kV4)));

  for (Family f : {Family::kV4, Family::kV6}) {
    for (bool udp : {false, true}) {
      auto answers = spread(*tb, f, udp, 100);
      std::printf("[ spread   ] %s %s: %s\n", to_string(f), udp ? "udp" : "tcp",
                  describe(answers).c_str());
      expect_all_backends(answers, 4);
    }
  }
  // Both Rail nodes took new flows (the router's L4 hash spreads the 50 sources).
  for (int i = 1; i <= 2; ++i) {
    auto v = tb->api_get(i, "/v1/vips/tcp4");
    ASSERT_TRUE(v) << v.error().describe();
    EXPECT_GT((*v).value("new_flows", 0), 5) << "rail" << i << ": " << v->dump();
  }
  const int router_saw = at_router.count();
  // 100 TCP exchanges (SYN-ACK, answer, FIN-ACK at least) and 100 UDP answers over IPv4.
  EXPECT_GE(router_saw, 400) << "replies (source = VIP) reaching the router";
  EXPECT_EQ(at_rail1.count(), 0) << "a reply went through rail1";
  EXPECT_EQ(at_rail2.count(), 0) << "a reply went through rail2";
  std::printf("[ dsr      ] frames from the VIP: router %d, rail1 0, rail2 0\n", router_saw);
}

TEST(TestbedTraffic, GreIngressFromTheRouterIsDecapsulatedAndBalanced) {
  auto tb =
      Testbed::up(topology("name: tbgre\nrail_nodes: 2\nbackends: 4\ningress: gre\n"), options());
  ASSERT_TRUE(tb) << tb.error().describe();
  for (Family f : {Family::kV4, Family::kV6}) {
    for (bool udp : {false, true}) {
      auto answers = spread(*tb, f, udp, 60);
      std::printf("[ spread   ] gre %s %s: %s\n", to_string(f), udp ? "udp" : "tcp",
                  describe(answers).c_str());
      expect_all_backends(answers, 4);
    }
  }
  auto encapsulated = tb->router_gre_packets();
  ASSERT_TRUE(encapsulated) << encapsulated.error().describe();
  uint64_t ingress = 0;
  for (int i = 1; i <= 2; ++i) {
    auto n = tb->rail_counter(i, RAIL_CNT_GRE_INGRESS);
    ASSERT_TRUE(n) << n.error().describe();
    EXPECT_GT(*n, 0u) << "rail" << i << " took no GRE";
    ingress += *n;
  }
  std::printf("[ gre      ] router encapsulated %llu, Rail GRE ingress %llu\n",
              static_cast<unsigned long long>(*encapsulated),
              static_cast<unsigned long long>(ingress));
  // 4 x 60 exchanges, at least 2 packets each towards the VIP; every one went in GRE.
  EXPECT_GE(ingress, 480u);
  EXPECT_EQ(ingress, *encapsulated);
}

TEST(TestbedTraffic, HaproxyModeReachesEveryBackend) {
  auto tb = Testbed::up(topology("name: tbhap\nrail_nodes: 2\nbackends: 4\nbalancer: haproxy\n"),
                        options());
  ASSERT_TRUE(tb) << tb.error().describe();
  EXPECT_EQ(tb->node_role(1), "lb1");
  for (Family f : {Family::kV4, Family::kV6}) {
    auto answers = spread(*tb, f, false, 40);
    std::printf("[ spread   ] haproxy %s tcp: %s\n", to_string(f), describe(answers).c_str());
    expect_all_backends(answers, 4);
  }
  // HAProxy's checks take a stopped backend out; new connections avoid it.
  ASSERT_TRUE(tb->stop_backend(3));
  std::map<std::string, int> answers;
  EXPECT_TRUE(wait_until(
      [&] {
        answers = spread(*tb, Family::kV4, false, 20);
        return answers.count("b3") == 0 && answers.count("fail") == 0;
      },
      std::chrono::milliseconds(3000)))
      << describe(answers);
}

TEST(TestbedTraffic, StoppedBackendLeavesHealthWithinASecondAndReturns) {
  auto tb = Testbed::up(topology("name: tbback\nrail_nodes: 2\nbackends: 3\nfamilies: [ipv4]\n"),
                        options());
  ASSERT_TRUE(tb) << tb.error().describe();
  ASSERT_EQ(backend_state(*tb, 1, "tcp4", 2), "up");

  const auto stopped = Clock::now();
  ASSERT_TRUE(tb->stop_backend(2));
  const bool down = wait_until(
      [&] {
        return backend_state(*tb, 1, "tcp4", 2) == "down" &&
               backend_state(*tb, 2, "tcp4", 2) == "down";
      },
      std::chrono::milliseconds(3000));
  ASSERT_TRUE(down) << backend_state(*tb, 1, "tcp4", 2);
  const double took = seconds_since(stopped);
  std::printf("[ timing   ] b2 down on both nodes %.2f s after its server stopped\n", took);
  EXPECT_LT(took, 1.5);  // interval 200 ms x fall 2, plus phase; slack for a loaded box
  auto answers = spread(*tb, Family::kV4, false, 60);
  EXPECT_EQ(answers.count("b2"), 0u) << describe(answers);
  EXPECT_EQ(answers.count("fail"), 0u) << describe(answers);

  const auto started = Clock::now();
  ASSERT_TRUE(tb->start_backend(2));
  ASSERT_TRUE(wait_until(
      [&] {
        return backend_state(*tb, 1, "tcp4", 2) == "up" && backend_state(*tb, 2, "tcp4", 2) == "up";
      },
      std::chrono::milliseconds(3000)));
  std::printf("[ timing   ] b2 up again %.2f s after its server restarted\n",
              seconds_since(started));
  expect_all_backends(spread(*tb, Family::kV4, false, 60), 3);
}

TEST(TestbedTraffic, TrafficContinuesThroughTheRemainingRailNode) {
  auto tb = Testbed::up(topology("name: tbnode\nrail_nodes: 2\nbackends: 3\n"), options());
  ASSERT_TRUE(tb) << tb.error().describe();
  ASSERT_TRUE(tb->stop_rail_node(1));
  EXPECT_FALSE(tb->node_active(1));
  auto route = tb->exec("router", "ip route show 198.18.100.0/24");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->find("198.18.0.11"), std::string::npos) << *route;
  EXPECT_NE(route->find("198.18.0.12"), std::string::npos) << *route;
  for (Family f : {Family::kV4, Family::kV6}) {
    auto answers = spread(*tb, f, false, 60);
    std::printf("[ spread   ] rail1 down, %s: %s\n", to_string(f), describe(answers).c_str());
    expect_all_backends(answers, 3);
  }
  EXPECT_FALSE(tb->api_get(1, "/readyz")) << "rail1's raild still answers";

  const auto restart = Clock::now();
  ASSERT_TRUE(tb->start_rail_node(1));
  std::printf("[ timing   ] rail1 back (ready, backends up, routed) in %.2f s\n",
              seconds_since(restart));
  auto before = tb->api_get(1, "/v1/vips/tcp4");
  ASSERT_TRUE(before) << before.error().describe();
  auto answers = spread(*tb, Family::kV4, false, 60);
  expect_all_backends(answers, 3);
  auto after = tb->api_get(1, "/v1/vips/tcp4");
  ASSERT_TRUE(after);
  EXPECT_GT((*after).value("new_flows", 0), (*before).value("new_flows", 0))
      << "rail1 takes flows again";
}

}  // namespace
}  // namespace rail::testbed
