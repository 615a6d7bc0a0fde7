// HealthChecker engine tests with real servers in a private network namespace: rise/fall over
// a listener going away and coming back, a hanging backend not delaying another, trigger(),
// runtime add/update/remove, bounded stop().
#include "daemon/health/health_checker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "health_test_netns.h"
#include "health_test_servers.h"

namespace rail::health {
namespace {

using std::chrono::steady_clock;
using testing::ServerConfig;
using testing::ServerKind;
using testing::ServersInNetnsTest;
using testing::TestServer;

// Collects state changes from worker threads.
class Recorder {
 public:
  HealthChecker::Callback callback() {
    return [this](const StateChange& change) {
      std::lock_guard lock(mu_);
      events_.push_back(change);
      cv_.notify_all();
    };
  }
  bool wait_for_count(size_t count, Millis timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return events_.size() >= count; });
  }
  std::vector<StateChange> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<StateChange> events_;
};

template <typename Pred>
bool eventually(Pred pred, Millis timeout) {
  auto until = steady_clock::now() + timeout;
  while (steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(Millis(2));
  }
  return pred();
}

class HealthCheckerTest : public ServersInNetnsTest {
 protected:
  std::unique_ptr<HealthChecker> checker(HealthChecker::Callback callback,
                                         Millis trigger_gap = Millis(200)) {
    HealthChecker::Options options;
    options.jitter = 0;  // exact timing to assert on; jitter itself is tested in health_logic
    options.netns_fd = ns_->fd();
    options.trigger_min_gap = trigger_gap;
    options.seed = 1;
    auto created = HealthChecker::create(options, std::move(callback));
    EXPECT_TRUE(created) << created.error().describe();
    return created ? std::move(*created) : nullptr;
  }

  static ProbeTarget target(uint16_t port) {
    return ProbeTarget{*IpAddress::parse("127.0.0.1"), port, std::nullopt, 0};
  }

  static HealthCheckSpec spec(CheckType type, uint16_t port, Millis interval, Millis timeout,
                              uint32_t rise = 2, uint32_t fall = 2) {
    HealthCheckSpec s;
    s.type = type;
    s.port = port;
    s.interval = interval;
    s.timeout = timeout;
    s.rise = rise;
    s.fall = fall;
    s.path = "/health";
    return s;
  }
};

TEST_F(HealthCheckerTest, TcpGoesDownAfterFallFailuresAndUpAfterRiseSuccesses) {
  auto server = serve({ServerKind::kTcp});
  uint16_t port = server->port();
  Recorder recorder;
  std::vector<uint32_t> streak_at_change;  // read back through the engine inside the callback
  HealthChecker* engine = nullptr;
  auto record = recorder.callback();
  auto hc = checker([&](const StateChange& change) {
    auto status = engine->status(change.id);
    streak_at_change.push_back(change.state == BackendState::kUp ? status->successes
                                                                 : status->failures);
    record(change);
  });
  engine = hc.get();
  ASSERT_TRUE(hc->add("b1", target(port), spec(CheckType::kTcp, port, Millis(100), Millis(80))));
  EXPECT_EQ(hc->status("b1")->state, BackendState::kDown);  // down until it rises

  ASSERT_TRUE(recorder.wait_for_count(1, Millis(1000)));
  server.reset();  // listener closed: connections refused from now on
  auto closed_at = steady_clock::now();
  ASSERT_TRUE(recorder.wait_for_count(2, Millis(1000)));
  // fall = 2 at a 100 ms interval: the second failure is at least ~one interval later.
  EXPECT_GE(steady_clock::now() - closed_at, Millis(90));

  ServerConfig again(ServerKind::kTcp);
  again.port = port;
  server = serve(again);
  ASSERT_TRUE(recorder.wait_for_count(3, Millis(1000)));

  auto events = recorder.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].state, BackendState::kUp);
  EXPECT_EQ(events[0].reason, "connected");
  EXPECT_EQ(events[1].state, BackendState::kDown);
  EXPECT_NE(events[1].reason.find("refused"), std::string::npos) << events[1].reason;
  EXPECT_EQ(events[2].state, BackendState::kUp);
  EXPECT_EQ(events[1].id, "b1");
  EXPECT_LE(events[0].time, events[1].time);
  EXPECT_EQ(streak_at_change, (std::vector<uint32_t>{2, 2, 2}));
  hc->stop();
}

TEST_F(HealthCheckerTest, HangingBackendDoesNotDelayAnother) {
  auto hang = serve({ServerKind::kHang});
  auto healthy = serve({ServerKind::kTcp});
  auto hc = checker([](const StateChange&) {});
  ASSERT_TRUE(hc->add("hang", target(hang->port()),
                      spec(CheckType::kHttp, hang->port(), Millis(1000), Millis(900))));
  ASSERT_TRUE(hc->add("healthy", target(healthy->port()),
                      spec(CheckType::kTcp, healthy->port(), Millis(100), Millis(80))));
  std::this_thread::sleep_for(Millis(950));
  auto hung = *hc->status("hang");
  auto fine = *hc->status("healthy");
  // Checks at 0, 100, ... 900 ms while the other probe sat in its 900 ms timeout.
  EXPECT_GE(fine.checks, 9u);
  EXPECT_EQ(fine.state, BackendState::kUp);
  EXPECT_EQ(hung.checks, 1u);
  EXPECT_NE(hung.last_detail.find("timeout after 900 ms"), std::string::npos) << hung.last_detail;
  EXPECT_GE(hung.last_latency, Millis(895));
  EXPECT_LT(fine.last_latency, Millis(50));
  hc->stop();
}

TEST_F(HealthCheckerTest, TriggerRunsACheckImmediately) {
  auto server = serve({ServerKind::kTcp});
  auto hc = checker([](const StateChange&) {}, Millis(50));
  ASSERT_TRUE(hc->add("b", target(server->port()),
                      spec(CheckType::kTcp, server->port(), Millis(10000), Millis(1000))));
  ASSERT_TRUE(eventually([&] { return hc->status("b")->checks == 1; }, Millis(500)));
  std::this_thread::sleep_for(Millis(60));  // past trigger_min_gap
  auto start = steady_clock::now();
  ASSERT_TRUE(hc->trigger("b"));
  ASSERT_TRUE(eventually([&] { return hc->status("b")->checks == 2; }, Millis(500)));
  EXPECT_LT(steady_clock::now() - start, Millis(50));
  // A burst of triggers right after a check is held back to trigger_min_gap, not a storm.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(hc->trigger("b"));
  std::this_thread::sleep_for(Millis(100));
  EXPECT_EQ(hc->status("b")->checks, 3u);
  EXPECT_EQ(hc->trigger("nobody").error().code, ErrorCode::kNotFound);
  hc->stop();
}

TEST_F(HealthCheckerTest, TargetsAreAddedUpdatedAndRemovedAtRuntime) {
  auto echo = serve({ServerKind::kUdpEcho});
  auto web = serve({ServerKind::kHttp, {{"/health", 200}}});
  Recorder recorder;
  auto hc = checker(recorder.callback());
  HealthCheckSpec udp = spec(CheckType::kUdp, echo->port(), Millis(50), Millis(40), 1, 1);
  ASSERT_TRUE(hc->add("u", target(echo->port()), udp));
  EXPECT_EQ(hc->add("u", target(echo->port()), udp).error().code, ErrorCode::kAlreadyExists);
  HealthCheckSpec bad = udp;
  bad.rise = 0;
  EXPECT_EQ(hc->add("x", target(1), bad).error().code, ErrorCode::kInvalidArgument);

  // Initially up (the daemon's last known state), pointed at a closed port: falls.
  ASSERT_TRUE(hc->add("w", target(1), spec(CheckType::kHttp, 1, Millis(50), Millis(40)),
                      BackendState::kUp));
  ASSERT_TRUE(recorder.wait_for_count(2, Millis(1000)));
  // Config reload to the real port: the state is kept, then it rises.
  ASSERT_TRUE(hc->update("w", target(web->port()),
                         spec(CheckType::kHttp, web->port(), Millis(50), Millis(40), 1, 1)));
  ASSERT_TRUE(recorder.wait_for_count(3, Millis(1000)));
  auto events = recorder.events();
  int w_down = 0, w_up = 0, u_up = 0;
  for (const auto& e : events) {
    if (e.id == "w") (e.state == BackendState::kDown ? w_down : w_up)++;
    if (e.id == "u" && e.state == BackendState::kUp) u_up++;
  }
  EXPECT_EQ(w_down, 1);
  EXPECT_EQ(w_up, 1);
  EXPECT_EQ(u_up, 1);

  ASSERT_TRUE(hc->remove("u"));
  EXPECT_EQ(hc->status("u").error().code, ErrorCode::kNotFound);
  std::this_thread::sleep_for(Millis(60));  // a check in flight at remove() may still land
  int served = echo->served();
  std::this_thread::sleep_for(Millis(150));
  EXPECT_EQ(echo->served(), served);
  EXPECT_EQ(hc->ids(), std::vector<std::string>{"w"});
  hc->stop();
  EXPECT_EQ(hc->add("late", target(1), udp).error().code, ErrorCode::kUnsupported);
}

TEST_F(HealthCheckerTest, StopIsPromptWhileAProbeHangs) {
  auto hang = serve({ServerKind::kHang});
  Recorder recorder;
  auto hc = checker(recorder.callback());
  ASSERT_TRUE(hc->add("hang", target(hang->port()),
                      spec(CheckType::kHttp, hang->port(), Millis(5000), Millis(5000), 1, 1),
                      BackendState::kUp));
  ASSERT_TRUE(eventually([&] { return hang->served() >= 1; }, Millis(500)));
  auto start = steady_clock::now();
  hc->stop();
  EXPECT_LT(steady_clock::now() - start, Millis(200));
  EXPECT_TRUE(recorder.events().empty());  // a cancelled probe is not a verdict
  hc->stop();                              // idempotent
}

TEST_F(HealthCheckerTest, RefusesAnUnusableNamespaceFd) {
  UniqueFd not_a_netns(open("/dev/null", O_RDONLY | O_CLOEXEC));
  HealthChecker::Options options;
  options.netns_fd = not_a_netns.get();
  auto created = HealthChecker::create(options, [](const StateChange&) {});
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().message.find("setns"), std::string::npos);
}

}  // namespace
}  // namespace rail::health
