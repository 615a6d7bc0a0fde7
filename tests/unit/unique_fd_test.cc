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

// A new open fd (the read end of a pipe whose write end is closed).
int new_fd() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return -1;
  }
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
  UniqueFd a(raw);
  {
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(b.get(), raw);
  }
  EXPECT_FALSE(is_open(raw));
}

// Move-assignment and reset() close what was held at once and take the new fd; "none" (a
// default UniqueFd, reset()) leaves it empty.
TEST(UniqueFd, MoveAssignmentAndResetCloseTheOldFd) {
  const int first = new_fd();
  const int second = new_fd();
  const int third = new_fd();
  UniqueFd fd(first);
  fd = UniqueFd(second);
  EXPECT_FALSE(is_open(first));
  EXPECT_EQ(fd.get(), second);
  fd.reset(third);
  EXPECT_FALSE(is_open(second));
  EXPECT_EQ(fd.get(), third);
  fd = UniqueFd();
  EXPECT_FALSE(is_open(third));
  EXPECT_FALSE(fd.valid());
  const int fourth = new_fd();
  fd.reset(fourth);
  fd.reset();
  EXPECT_FALSE(is_open(fourth));
  EXPECT_FALSE(fd.valid());
}

TEST(UniqueFd, SelfMoveAssignmentKeepsTheFd) {
  const int raw = new_fd();
  UniqueFd fd(raw);
  UniqueFd& same = fd;
  fd = std::move(same);
  EXPECT_EQ(fd.get(), raw);
  EXPECT_TRUE(is_open(raw));
}

TEST(UniqueFd, ReleaseHandsOverWithoutClosing) {
  const int raw = new_fd();
  {
    UniqueFd fd(raw);
    EXPECT_EQ(fd.release(), raw);
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_TRUE(is_open(raw));
  close(raw);
}

}  // namespace
}  // namespace rail
