// Live raild, via-VIP health checks: the probe travels the real data path (tc egress GRE on the
// Rail node -> the backend's decap program -> the VIP on its lo) and the answer comes back
// directly. A backend without the VIP passes a direct check and fails a via-VIP one.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "raild_fixture.h"

namespace rail {
namespace {

using namespace e2e::raild_live;

class RaildViaVipTest : public RaildLiveTest {};

TEST_F(RaildViaVipTest, BackendWithoutTheVipIsDownOnlyWhenCheckedThroughIt) {
  // Backend 1 loses its VIP: its own address still answers, the VIP black-holes flows.
  exec(backend(1), std::string("ip addr del ") + kVip + "/32 dev lo");
  // The probes to the VIP must leave through r0 with a resolvable next hop (the program
  // rewrites both MACs). The client is that next hop: a probe that leaked out plain would reach
  // a host without the VIP and fail, so "up" below can only come through the encapsulation.
  exec(rail(), std::string("ip route add ") + kVip + "/32 via " + kClientIp + " dev r0");
  ASSERT_FALSE(HasFatalFailure());

  // 1. Direct checks: all three up, although backend 1 cannot serve the VIP.
  ASSERT_TRUE(start_raild());
  const std::string log_hint = "\nraild log (" + log_path_ + "):\n";
  auto all_up = wait_until([&] { return all_backends_up() && raild_->running(); }, 8);
  ASSERT_TRUE(all_up) << http("GET", "/v1/vips/www").body << log_hint << read_file(log_path_);
  {
    auto answers = connect_batch("direct checks, backend 1 without VIP");
    EXPECT_GT(answers.count("fail"), 0u) << "backend 1 should black-hole: " << describe(answers);
  }

  // 2. via_vip: true, SIGHUP: backend 1 fails its checks and leaves the table; 2 and 3 stay.
  std::string config = config_text();
  config.replace(config.find("      fall: 2\n"), 14, "      fall: 2\n      via_vip: true\n");
  write_file(config_path_, config);
  raild_->signal(SIGHUP);
  auto down = wait_until([&] { return backend_state_is(1, "down"); }, 5);
  ASSERT_TRUE(down) << http("GET", "/v1/vips/www").body << log_hint << read_file(log_path_);
  std::printf("[ timing ] backend 1 down %.3f s after via_vip checks were turned on\n", *down);
  const std::string log = read_file(log_path_);
  EXPECT_NE(log.find("via_vip_probes"), std::string::npos) << log;
  EXPECT_EQ(log.find("via_vip_direct"), std::string::npos) << log;
  // Several more check rounds (200 ms): 2 and 3 keep passing through the tunnel.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_TRUE(backend_state_is(2, "up")) << http("GET", "/v1/vips/www").body;
  EXPECT_TRUE(backend_state_is(3, "up")) << http("GET", "/v1/vips/www").body;
  EXPECT_TRUE(backend_state_is(1, "down")) << http("GET", "/v1/vips/www").body;
  {
    auto answers = connect_batch("via_vip checks");
    EXPECT_EQ(answers.count(backend_name(1)), 0u) << describe(answers);
    EXPECT_EQ(answers.count("fail"), 0u) << describe(answers);
    EXPECT_GT(answers[backend_name(2)], 0) << describe(answers);
    EXPECT_GT(answers[backend_name(3)], 0) << describe(answers);
  }

  // 3. The VIP back on backend 1's lo: `rise` via-VIP checks bring it back.
  exec(backend(1), std::string("ip addr add ") + kVip + "/32 dev lo");
  auto up = wait_until([&] { return backend_state_is(1, "up"); }, 5);
  ASSERT_TRUE(up) << http("GET", "/v1/vips/www").body << log_hint << read_file(log_path_);
  std::printf("[ timing ] backend 1 up %.3f s after its VIP came back\n", *up);

  // 4. Backend 2's decap program detached: the tunnel ends there, the via-VIP check sees it.
  topology_->decap(1).detach_all();  // backend 2
  auto no_decap = wait_until([&] { return backend_state_is(2, "down"); }, 5);
  ASSERT_TRUE(no_decap) << http("GET", "/v1/vips/www").body << log_hint << read_file(log_path_);
  std::printf("[ timing ] backend 2 down %.3f s after its decap program was detached\n", *no_decap);
  EXPECT_TRUE(backend_state_is(1, "up"));
  EXPECT_TRUE(backend_state_is(3, "up"));

  auto stopped_in = raild_->terminate(5);
  ASSERT_TRUE(stopped_in) << log_hint << read_file(log_path_);
  EXPECT_EQ(raild_->exit_status(), 0) << log_hint << read_file(log_path_);
}

}  // namespace
}  // namespace rail
