// NetnsFd and run_in_netns(): setns(2) confined to a helper thread.
#include "dataplane/netns_exec.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "dataplane/libbpf_error.h"

namespace rail::dataplane {

Result<NetnsFd> NetnsFd::current() {
  return open("/proc/thread-self/ns/net");
}

Result<NetnsFd> NetnsFd::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("open network namespace " + path);
  return NetnsFd(fd);
}

bool NetnsFd::is_current() const {
  struct stat mine {};
  struct stat self {};
  if (fstat(fd_.get(), &mine) != 0 || stat("/proc/thread-self/ns/net", &self) != 0) return false;
  return mine.st_dev == self.st_dev && mine.st_ino == self.st_ino;
}

Status run_in_netns(const NetnsFd& netns, const std::function<Status()>& fn) {
  Status result;
  std::thread worker([&] {
    if (setns(netns.get(), CLONE_NEWNET) != 0) {
      result = errno_error("setns into network namespace");
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

}  // namespace rail::dataplane
