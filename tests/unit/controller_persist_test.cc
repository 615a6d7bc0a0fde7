// The state files are written after the change is applied, on the persister thread: they end
// equal to the running state (flush, destruction), and a failed write leaves the change applied
// and is retried until it succeeds.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controller_test_world.h"
#include "daemon/config/config_store.h"

namespace rail::daemon::testing {
namespace {

// A Controller of its own (the test decides when it goes) over a ReferenceDataPlane, with the
// state file under `state_dir` (which may not exist yet).
class PersistWorld {
 public:
  explicit PersistWorld(const std::string& state_subdir = "") {
    dir_ = std::filesystem::temp_directory_path() /
           ("rail-persist-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    state_dir_ = state_subdir.empty() ? dir_ : dir_ / state_subdir;
    for (const char* a : {"198.18.1.1", "198.18.1.2", "198.18.1.3"})
      macs_.set(ip(a), *MacAddress::parse("02:00:00:00:0c:01"));
    log_ = std::make_unique<EventLog>(LogLevel::kInfo, [this](const std::string& l) {
      std::lock_guard lock(mu_);
      lines_.push_back(l);
    });
    auto config = parse_config(world_yaml(state_dir_.string()), "test");
    EXPECT_TRUE(config) << config.error().message;
    ControllerOptions options;
    options.health_checks = false;
    options.persist_retry = std::chrono::milliseconds(20);
    auto c = Controller::create(*config, {}, plane_, macs_, *log_, options);
    EXPECT_TRUE(c) << c.error().message;
    if (c) controller_ = std::move(*c);
  }
  ~PersistWorld() {
    controller_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Controller& c() { return *controller_; }
  void stop() { controller_.reset(); }
  std::string state_file() const { return (state_dir_ / "running.yaml").string(); }
  const std::filesystem::path& state_dir() const { return state_dir_; }
  bool logged(const std::string& text) {
    std::lock_guard lock(mu_);
    for (const std::string& l : lines_)
      if (l.find(text) != l.npos) return true;
    return false;
  }
  // The state files as raild would read them at start, equal to (config, runtime)?
  ::testing::AssertionResult on_disk(const DaemonConfig& config, const RuntimeState& runtime) {
    auto saved = ConfigStore(state_file()).load();
    if (!saved) return ::testing::AssertionFailure() << saved.error().message;
    if (!(*saved == config)) return ::testing::AssertionFailure() << "state file differs";
    auto rt = load_runtime_state(runtime_state_path(state_file()));
    if (!rt) return ::testing::AssertionFailure() << rt.error().message;
    if (!(*rt == runtime)) return ::testing::AssertionFailure() << "runtime file differs";
    return ::testing::AssertionSuccess();
  }

 private:
  std::filesystem::path dir_, state_dir_;
  FixedNextHops macs_;
  ReferenceDataPlane plane_;
  std::mutex mu_;
  std::vector<std::string> lines_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<Controller> controller_;
};

TEST(ControllerPersist, AfterABurstOfChangesFlushLeavesTheFilesEqualToTheRunningState) {
  PersistWorld w;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(w.c().set_drained("web", ip("198.18.1.2"), i % 2 == 0));
    ASSERT_TRUE(w.c().set_weight("web", ip("198.18.1.3"), uint32_t(1 + i % 5)));
  }
  ASSERT_TRUE(w.c().flush_state());
  EXPECT_EQ(w.c().config().pools[0].backends[2].weight, 5u);
  EXPECT_TRUE(w.on_disk(w.c().config(), w.c().runtime()));
  EXPECT_EQ(w.c().node().persist_errors, 0u);
}

TEST(ControllerPersist, AControllerThatGoesAwayLeavesItsLastStateOnDisk) {
  PersistWorld w;
  ASSERT_TRUE(w.c().set_weight("web", ip("198.18.1.1"), 7));
  ASSERT_TRUE(w.c().set_drained("web", ip("198.18.1.3"), true));
  const DaemonConfig config = w.c().config();
  const RuntimeState runtime = w.c().runtime();
  w.stop();  // no flush_state(): the destructor writes what is pending
  EXPECT_TRUE(w.on_disk(config, runtime));
}

TEST(ControllerPersist, AFailedWriteKeepsTheChangeAppliedAndIsRetriedUntilItSucceeds) {
  PersistWorld w("missing");  // the state file's directory does not exist yet
  ASSERT_TRUE(w.c().set_weight("web", ip("198.18.1.1"), 0));
  EXPECT_EQ(w.c().config().pools[0].backends[0].weight, 0u);  // applied all the same
  Status flushed = w.c().flush_state();
  ASSERT_FALSE(flushed);
  EXPECT_NE(flushed.error().message.find(w.state_dir().string()), std::string::npos)
      << flushed.error().message;
  EXPECT_GE(w.c().node().persist_errors, 1u);
  EXPECT_TRUE(w.logged("event=persist_failed"));

  // The directory appears: the next retry (every 20 ms here) writes the newest state, with
  // no further change.
  std::filesystem::create_directories(w.state_dir());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!w.c().flush_state() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(w.c().flush_state());
  EXPECT_TRUE(w.on_disk(w.c().config(), w.c().runtime()));
}

}  // namespace
}  // namespace rail::daemon::testing
