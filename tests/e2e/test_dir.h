// A live test's temp dir (config, state, logs, maybe a bpffs mount) and whole-file read/write.
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "dataplane/bpffs.h"

namespace rail::e2e {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// A unique dir /tmp/<prefix><pid>-XXXXXX, removed with everything in it. A bpffs that the test
// mounted at <dir>/bpffs is emptied first (removing the pins drops pinned links no raild holds
// any more, so nothing keeps forwarding) and unmounted. The pid in the name lets the next run
// sweep dirs of runs killed by a signal (no destructors), as Netns does for namespaces.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
      const std::string name = entry.path().filename();
      if (name.rfind(prefix, 0) != 0) continue;
      const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
      if (pid > 0 && kill(pid_t(pid), 0) != 0 && errno == ESRCH) remove(entry.path());
    }
    std::string tmpl = "/tmp/" + prefix + std::to_string(getpid()) + "-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) remove(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Empty when mkdtemp failed (errno says why).
  const std::string& path() const { return path_; }

 private:
  static void remove(const std::string& dir) {
    std::error_code ec;
    const std::string bpffs = dir + "/bpffs";
    if (dataplane::is_bpffs(bpffs)) {
      std::filesystem::remove_all(bpffs + "/rail", ec);
      umount2(bpffs.c_str(), MNT_DETACH);
    }
    std::filesystem::remove_all(dir, ec);
  }

  std::string path_;
};

}  // namespace rail::e2e
