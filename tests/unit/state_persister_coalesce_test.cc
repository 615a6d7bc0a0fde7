// StatePersister coalescing: a burst of submissions is written in fewer writes, the files end
// at the newest snapshot within the interval without a flush, and flush() does not wait for it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "daemon/config/config_store.h"
#include "daemon/config/yaml_loader.h"
#include "daemon/controller/runtime_state.h"
#include "daemon/controller/state_persister.h"

namespace rail::daemon {
namespace {

using namespace std::chrono_literals;

class StatePersisterCoalesce : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rail-persist-coalesce-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    auto c = load_config_file(RAIL_EXAMPLES_DIR "/rail.yaml");
    ASSERT_TRUE(c) << c.error().message;
    config_ = *c;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string state_file() const { return (dir_ / "running.yaml").string(); }
  // The example config with the first backend's weight set to `w`.
  DaemonConfig with_weight(uint32_t w) const {
    DaemonConfig c = config_;
    c.pools[0].backends[0].weight = w;
    return c;
  }
  // Polls the state file and the runtime file (written after it) until they hold weight `w`
  // and `runtime`, or `limit` passes.
  bool files_reach(uint32_t w, const RuntimeState& runtime, std::chrono::milliseconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto saved = ConfigStore(state_file()).load();
      auto rt = load_runtime_state(runtime_state_path(state_file()));
      if (saved && *saved == with_weight(w) && rt && *rt == runtime) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
  }

  std::filesystem::path dir_;
  DaemonConfig config_;
};

TEST_F(StatePersisterCoalesce, ABurstIsWrittenInFewWritesEndingAtTheNewest) {
  StatePersister p([](const std::string&, const Error& e) { ADD_FAILURE() << e.message; }, 1000ms,
                   1000ms);
  RuntimeState runtime;
  const DaemonConfig first = with_weight(1);
  p.submit(state_file(), &first, runtime);
  ASSERT_TRUE(files_reach(1, runtime, 2s));  // after a quiet time: written at once
  ASSERT_TRUE(p.flush());                    // returns once that write is counted
  EXPECT_EQ(p.writes(), 1u);
  for (uint32_t w = 2; w <= 50; ++w) {  // ~50 ms of changes, inside one interval
    const DaemonConfig c = with_weight(w);
    p.submit(state_file(), &c, runtime);
    std::this_thread::sleep_for(1ms);
  }
  // No flush: the newest snapshot lands within the interval (plus the write).
  EXPECT_TRUE(files_reach(50, runtime, 3s));
  EXPECT_LE(p.writes(), 3u);  // 49 submissions in one or two writes
}

TEST_F(StatePersisterCoalesce, FlushDoesNotWaitForTheInterval) {
  StatePersister p([](const std::string&, const Error& e) { ADD_FAILURE() << e.message; }, 1000ms,
                   10s);
  RuntimeState runtime;
  const DaemonConfig first = with_weight(2);
  p.submit(state_file(), &first, runtime);
  ASSERT_TRUE(p.flush());
  const DaemonConfig second = with_weight(3);
  runtime.drained.insert(BackendKey{config_.pools[0].name, config_.pools[0].backends[0].address});
  p.submit(state_file(), &second, runtime);  // inside the 10 s interval
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(p.flush());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  auto saved = ConfigStore(state_file()).load();
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_EQ(*saved, second);
  auto rt = load_runtime_state(runtime_state_path(state_file()));
  ASSERT_TRUE(rt) << rt.error().message;
  EXPECT_EQ(*rt, runtime);
}

TEST_F(StatePersisterCoalesce, TheDestructorWritesWhatIsPendingAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  {
    StatePersister p([](const std::string&, const Error& e) { ADD_FAILURE() << e.message; }, 1000ms,
                     10s);
    RuntimeState runtime;
    const DaemonConfig first = with_weight(2), second = with_weight(4);
    p.submit(state_file(), &first, runtime);
    ASSERT_TRUE(p.flush());
    p.submit(state_file(), &second, runtime);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  auto saved = ConfigStore(state_file()).load();
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_EQ(*saved, with_weight(4));
}

}  // namespace
}  // namespace rail::daemon
