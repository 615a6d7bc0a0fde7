// dataplane RAII pieces against the real kernel: attachment errors, bpffs mounting.
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "dataplane/bpffs.h"
#include "dataplane/decap_program.h"

namespace rail::dataplane {
namespace {

TEST(XdpAttachmentTest, MissingInterfaceIsNotFound) {
  auto program = DecapProgram::load();
  ASSERT_TRUE(program) << program.error().describe();
  auto a = XdpAttachment::attach("rail-no-such0", program->xdp_prog_fd());
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::kNotFound);
  EXPECT_NE(a.error().message.find("rail-no-such0"), std::string::npos);
}

TEST(TcAttachmentTest, MissingInterfaceIsNotFound) {
  auto program = DecapProgram::load();
  ASSERT_TRUE(program) << program.error().describe();
  Status s = program->attach_tc("rail-no-such0");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
}

TEST(XdpAttachmentTest, BadProgramFdIsRefusedWithLibbpfText) {
  // `lo` exists in every namespace; fd -1 is no program: the kernel says EBADF.
  auto a = XdpAttachment::attach("lo", -1, XdpMode::kGeneric);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::kSystem);
  EXPECT_NE(a.error().message.find("errno 9"), std::string::npos) << a.error().message;
}

TEST(BpffsTest, MountsOnceAndRecognisesItself) {
  char dir_template[] = "/tmp/rail-bpffs-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string dir = dir_template;
  EXPECT_FALSE(is_bpffs(dir));
  Status first = ensure_bpffs(dir);
  ASSERT_TRUE(first) << first.error().describe();
  EXPECT_TRUE(is_bpffs(dir));
  EXPECT_TRUE(ensure_bpffs(dir));  // already mounted: nothing to do
  EXPECT_EQ(umount(dir.c_str()), 0);
  EXPECT_EQ(rmdir(dir.c_str()), 0);
}

TEST(DecapProgramTest, AddressMapIsBounded) {
  auto program = DecapProgram::load();
  ASSERT_TRUE(program) << program.error().describe();
  for (uint32_t i = 0; i < RAIL_DECAP_MAX_ADDRESSES; ++i) {
    ASSERT_TRUE(program->add_address(IpAddress::v4(0xC6120000u + i)));
  }
  Status over = program->add_address(IpAddress::v4(0xC6130000u));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::kOutOfRange);
}

}  // namespace
}  // namespace rail::dataplane
