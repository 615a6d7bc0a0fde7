// UniqueFd: closed exactly once, by whoever owns it last (the semantics the e2e, testbed and
// data-plane fd wrappers it replaced relied on).
#include "core/unique_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <utility>

namespace rail {
namespace {

bool is_open(int fd) {
  return fcntl(fd, F_GETFD) != -1;
}

int new_fd() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  close(fds[1]);
  return fds[0];
}

TEST(UniqueFd, DefaultHoldsNothing) {
  UniqueFd fd;
  EXPECT_FALSE(fd.valid());
  EXPECT_EQ(fd.get(), -1);
  EXPECT_FALSE(UniqueFd(-1).valid());
}

TEST(UniqueFd, ClosesAtScopeEnd) {
  const int raw = new_fd();
  ASSERT_GE(raw, 0);
  {
    UniqueFd fd(raw);
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(fd.get(), raw);
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, MoveConstructionTransfersOwnership) {
  const int raw = new_fd();
  ASSERT_GE(raw, 0);
  UniqueFd a(raw);
  {
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(b.get(), raw);
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, MoveAssignmentClosesTheOldFdAndTakesTheNew) {
  const int old_raw = new_fd();
  const int new_raw = new_fd();
  ASSERT_GE(old_raw, 0);
  ASSERT_GE(new_raw, 0);
  UniqueFd held(old_raw);
  held = UniqueFd(new_raw);
  EXPECT_FALSE(is_open(old_raw));
  EXPECT_EQ(held.get(), new_raw);
  EXPECT_TRUE(is_open(new_raw));
  held = UniqueFd();  // assigning "none" closes what it held
  EXPECT_FALSE(held.valid());
  EXPECT_FALSE(is_open(new_raw));
}

TEST(UniqueFd, SelfMoveAssignmentKeepsTheFd) {
  const int raw = new_fd();
  ASSERT_GE(raw, 0);
  UniqueFd fd(raw);
  UniqueFd& same = fd;
  fd = std::move(same);
  EXPECT_EQ(fd.get(), raw);
  EXPECT_TRUE(is_open(raw));
}

TEST(UniqueFd, ReleaseHandsOverWithoutClosing) {
  const int raw = new_fd();
  ASSERT_GE(raw, 0);
  {
    UniqueFd fd(raw);
    EXPECT_EQ(fd.release(), raw);
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_TRUE(is_open(raw));
  close(raw);
}

TEST(UniqueFd, ResetClosesAndTakesAnother) {
  const int first = new_fd();
  const int second = new_fd();
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  UniqueFd fd(first);
  fd.reset(second);
  EXPECT_FALSE(is_open(first));
  EXPECT_EQ(fd.get(), second);
  fd.reset();
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(is_open(second));
}

}  // namespace
}  // namespace rail
