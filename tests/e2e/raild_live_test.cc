// Live raild: the real daemon binary in the rail namespace balancing real TCP servers, driven
// through its health checks, its HTTP API, SIGHUP and SIGTERM (docs/raild.md, docs/api.md).
// The world (namespaces, servers, raild process, API helpers) is raild_fixture.h.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "raild_fixture.h"

namespace rail {
namespace {

using namespace e2e::raild_live;

TEST_F(RaildLiveTest, ServesHealsObeysTheApiSurvivesABadReloadAndStops) {
  const auto started = Clock::now();
  ASSERT_TRUE(start_raild());
  const std::string log_hint = "\nraild log (" + log_path_ + "):\n";

  // 1. Ready, every backend up after `rise` checks, connections reach all three.
  auto ready =
      wait_until([&] { return !raild_->running() || http("GET", "/readyz").status == 200; }, 10);
  ASSERT_TRUE(ready && raild_->running()) << log_hint << read_file(log_path_);
  std::printf("[ timing ] /readyz 200 after %.3f s\n", seconds_since(started));
  auto all_up = wait_until([&] { return all_backends_up(); }, 5);
  ASSERT_TRUE(all_up) << http("GET", "/v1/vips/www").body << log_hint << read_file(log_path_);
  std::printf("[ timing ] all 3 backends up %.3f s after start\n", seconds_since(started));
  {
    auto answers = connect_batch("start");
    for (int n = 1; n <= kBackends; ++n)
      EXPECT_GT(answers[backend_name(n)], 0) << describe(answers);
    EXPECT_EQ(answers.count("fail"), 0u) << describe(answers);
  }

  // 2. Backend 2's server stops: `fall` failed checks take it down, flows avoid it.
  servers_[1]->stop();
  const auto stopped = Clock::now();
  auto down = wait_until([&] { return backend_state_is(2, "down"); }, 3);
  ASSERT_TRUE(down) << http("GET", "/v1/vips/www").body << log_hint << read_file(log_path_);
  std::printf("[ timing ] backend 2 down %.3f s after its server stopped\n", *down);
  EXPECT_LT(*down, 2.0);  // fall 2 x interval 200ms, plus one interval of phase; slack for CI
  {
    auto view = backends_view();
    EXPECT_EQ(view[backend_name(2)].value("health", ""), "down");
    EXPECT_EQ(backend_up_metric(http("GET", "/metrics").body, 2), 0);
    EXPECT_EQ(backend_up_metric(http("GET", "/metrics").body, 1), 1);
    auto answers = connect_batch("backend 2 down");
    EXPECT_EQ(answers.count(backend_name(2)), 0u) << describe(answers);
    EXPECT_GT(answers[backend_name(1)], 0) << describe(answers);
    EXPECT_GT(answers[backend_name(3)], 0) << describe(answers);
    EXPECT_EQ(answers.count("fail"), 0u) << describe(answers);
    std::printf("[ timing ] new connections avoid backend 2 %.3f s after its server stopped\n",
                seconds_since(stopped));
  }

  // 3. Restarted: `rise` good checks bring it back, new flows reach it again.
  ASSERT_TRUE(servers_[1]->start());
  auto up = wait_until([&] { return backend_state_is(2, "up"); }, 3);
  ASSERT_TRUE(up) << http("GET", "/v1/vips/www").body << log_hint << read_file(log_path_);
  std::printf("[ timing ] backend 2 up again %.3f s after its server restarted\n", *up);
  EXPECT_LT(*up, 2.0);  // rise 2 x interval 200ms; slack for CI
  {
    EXPECT_EQ(backend_up_metric(http("GET", "/metrics").body, 2), 1);
    auto answers = connect_batch("backend 2 back");
    for (int n = 1; n <= kBackends; ++n)
      EXPECT_GT(answers[backend_name(n)], 0) << describe(answers);
  }

  // 4. API: drain backend 1 -> new flows avoid it; bad weights are refused, nothing changes.
  const std::string b1 = "/v1/pools/web/backends/" + backend_ip(1);
  {
    const auto t = Clock::now();
    HttpResponse r = http("POST", b1 + "/drain");
    EXPECT_EQ(r.status, 200) << r.body;
    auto answers =
        connect_batch("backend 1 drained");  // the data plane has the change before the response
    std::printf("[ timing ] drain answered in %.3f s incl. %d connections\n", seconds_since(t),
                kFlows);
    EXPECT_EQ(answers.count(backend_name(1)), 0u) << describe(answers);
    EXPECT_GT(answers[backend_name(2)], 0) << describe(answers);
    EXPECT_GT(answers[backend_name(3)], 0) << describe(answers);
    auto view = backends_view();
    EXPECT_EQ(view[backend_name(1)].value("drained", false), true);
    EXPECT_EQ(view[backend_name(1)].value("effective_weight", -1), 0);
  }
  {
    HttpResponse before = http("GET", "/v1/vips/www");
    const json vip_before = json::parse(before.body, nullptr, false);
    for (const char* bad : {R"({"weight": "abc"})", R"({"weight": -1})"}) {
      HttpResponse r = http("PUT", b1 + "/weight", bad);
      EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
      EXPECT_NE(r.body.find("error"), std::string::npos) << r.body;
    }
    const json vip_after = json::parse(http("GET", "/v1/vips/www").body, nullptr, false);
    ASSERT_FALSE(vip_before.is_discarded() || vip_after.is_discarded());
    EXPECT_EQ(vip_after["table_rebuilds"], vip_before["table_rebuilds"]);
    for (size_t i = 0; i < vip_before["backends"].size(); ++i) {
      for (const char* key : {"weight", "effective_weight", "state", "drained"})
        EXPECT_EQ(vip_after["backends"][i][key], vip_before["backends"][i][key]) << key;
    }
    auto answers = connect_batch("after bad weights");
    EXPECT_EQ(answers.count(backend_name(1)), 0u) << describe(answers);
  }

  // 5. SIGHUP with a broken file: refused with its position, the running config keeps serving.
  {
    const std::string broken = config_text("2");  // "2 needs a unit"
    const size_t at = broken.find("interval: 2\n") + std::string("interval: ").size();
    const int line = 1 + int(std::count(broken.begin(), broken.begin() + long(at), '\n'));
    const int column = int(at - broken.rfind('\n', at - 1));
    const std::string position = config_path_ + ":" + std::to_string(line) + ":" +
                                 std::to_string(column) + ": pools[0].check.interval";
    write_file(config_path_, broken);
    raild_->signal(SIGHUP);
    auto refused = wait_until(
        [&] {
          const std::string log = read_file(log_path_);
          return log.find("reload_refused") != std::string::npos &&
                 log.find(position) != std::string::npos;
        },
        5);
    EXPECT_TRUE(refused) << "expected reload_refused with " << position << log_hint
                         << read_file(log_path_);
    if (refused) std::printf("[ timing ] SIGHUP refused (logged) after %.3f s\n", *refused);
    EXPECT_TRUE(raild_->running());
    EXPECT_EQ(http("GET", "/readyz").status, 200);
    auto answers = connect_batch("after bad SIGHUP");
    EXPECT_EQ(answers.count("fail"), 0u) << describe(answers);
    EXPECT_GT(answers[backend_name(2)], 0) << describe(answers);
    EXPECT_GT(answers[backend_name(3)], 0) << describe(answers);

    auto check = testbed::run_status({RAIL_RAILD_PATH, "--config", config_path_, "--check"});
    ASSERT_TRUE(check) << check.error().describe();
    EXPECT_EQ(check->status, 1) << check->output;
    EXPECT_NE(check->output.find(position), std::string::npos) << check->output;
  }

  // 6. /metrics is valid Prometheus text (promtool reads it on stdin).
  {
    HttpResponse metrics = http("GET", "/metrics");
    ASSERT_EQ(metrics.status, 200) << metrics.body;
    const std::string file = dir_.path() + "/metrics.txt";
    write_file(file, metrics.body);
    auto checked = e2e::run_command("promtool check metrics < " + file);
    EXPECT_TRUE(checked) << checked.error().describe() << "\n" << metrics.body;
  }

  // SIGTERM: a clean exit 0 within 5 s.
  auto stopped_in = raild_->terminate(5);
  ASSERT_TRUE(stopped_in) << "raild did not exit within 5 s of SIGTERM" << log_hint
                          << read_file(log_path_);
  std::printf("[ timing ] raild exited %.3f s after SIGTERM\n", *stopped_in);
  EXPECT_EQ(raild_->exit_status(), 0)
      << "status " << raild_->exit_status() << log_hint << read_file(log_path_);
  std::printf("[ timing ] whole scenario %.3f s\n", seconds_since(started));
}

}  // namespace
}  // namespace rail
