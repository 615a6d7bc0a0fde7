// A fresh bpffs directory for a test's pins (bpffs mounted first if needed), removed with
// everything in it whatever happens: pins are files that outlive the test process otherwise.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "dataplane/bpffs.h"

namespace rail::golden {

class PinDir {
 public:
  // /sys/fs/bpf/rail-<name>-<pid>.
  explicit PinDir(const std::string& name)
      : path_("/sys/fs/bpf/rail-" + name + "-" + std::to_string(getpid())) {
    EXPECT_TRUE(dataplane::ensure_bpffs("/sys/fs/bpf"));
    EXPECT_EQ(mkdir(path_.c_str(), 0700), 0) << path_;
  }
  ~PinDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  PinDir(const PinDir&) = delete;
  PinDir& operator=(const PinDir&) = delete;

  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace rail::golden
