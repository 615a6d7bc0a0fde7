// The testbed's Spawner: a background child's output in one log or in two files (stdout,
// stderr), its exit status, and its death with the Spawner's owner (PR_SET_PDEATHSIG).
#include "tools/testbed/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace rail::testbed {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SpawnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = "/tmp/rail-spawner-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

constexpr const char* kBothStreams = "echo to-out; echo to-err >&2; exit 3";

TEST_F(SpawnerTest, SeparateFilesGetStdoutAndStderr) {
  Spawner spawner;
  auto p = spawner.spawn({"/bin/sh", "-c", kBothStreams}, dir_ + "/out", dir_ + "/err");
  ASSERT_TRUE(p) << p.error().describe();
  auto status = p->wait(milliseconds(5000));
  ASSERT_TRUE(status) << status.error().describe();
  EXPECT_EQ(*status, 3);
  EXPECT_EQ(slurp(dir_ + "/out"), "to-out\n");
  EXPECT_EQ(slurp(dir_ + "/err"), "to-err\n");
}

TEST_F(SpawnerTest, OneLogGetsBothAndIsAppendedTo) {
  Spawner spawner;
  for (int run = 0; run < 2; ++run) {
    auto p = spawner.spawn({"/bin/sh", "-c", kBothStreams}, dir_ + "/log");
    ASSERT_TRUE(p) << p.error().describe();
    EXPECT_EQ(*p->wait(milliseconds(5000)), 3);
  }
  EXPECT_EQ(slurp(dir_ + "/log"), "to-out\nto-err\nto-out\nto-err\n");
  // The two-file form with the same path twice is the one-log form.
  auto p = spawner.spawn({"/bin/sh", "-c", kBothStreams}, dir_ + "/same", dir_ + "/same");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p->wait(milliseconds(5000)), 3);
  EXPECT_EQ(slurp(dir_ + "/same"), "to-out\nto-err\n");
}

TEST_F(SpawnerTest, AnUnwritableFileIsAnErrorAndAMissingProgramExits127) {
  Spawner spawner;
  auto bad = spawner.spawn({"/bin/true"}, dir_ + "/out", dir_ + "/no/such/dir/err");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(dir_ + "/no/such/dir/err"), std::string::npos)
      << bad.error().message;
  auto missing = spawner.spawn({dir_ + "/no-such-program"}, dir_ + "/out", dir_ + "/err");
  ASSERT_TRUE(missing);
  EXPECT_EQ(*missing->wait(milliseconds(5000)), 127);
}

// A child outlives neither its Process (destructor) nor a test process that dies without
// destructors: a forked "test" that owns a Spawner is SIGKILLed; its child must die with it.
TEST_F(SpawnerTest, ChildrenDieWithTheirOwner) {
  const std::string pid_file = dir_ + "/child.pid";
  const pid_t owner = fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    Spawner spawner;
    auto p = spawner.spawn({"/bin/sh", "-c", "echo $$ > " + pid_file + "; exec sleep 1000"},
                           dir_ + "/out", dir_ + "/err");
    if (!p) _exit(1);
    pause();
    _exit(0);
  }
  pid_t child = 0;
  ASSERT_TRUE(wait_until([&] { return std::istringstream(slurp(pid_file)) >> child && child > 0; },
                         milliseconds(5000)));
  EXPECT_EQ(kill(child, 0), 0);
  kill(owner, SIGKILL);
  int status = 0;
  waitpid(owner, &status, 0);
  // The sleeper was re-parented and killed by the kernel; /proc/PID then disappears (reaped by
  // init) or shows a zombie.
  EXPECT_TRUE(wait_until(
      [&] {
        std::string stat = slurp("/proc/" + std::to_string(child) + "/stat");
        return stat.empty() || stat.find(") Z ") != std::string::npos;
      },
      milliseconds(5000)));
}

}  // namespace
}  // namespace rail::testbed
