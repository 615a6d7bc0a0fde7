// ensure_bpffs(): mount(2) of type "bpf", checked with statfs(2) magic BPF_FS_MAGIC.
#include "dataplane/bpffs.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>

#include "dataplane/libbpf_error.h"

namespace rail::dataplane {

bool is_bpffs(const std::string& dir) {
  struct statfs fs {};
  return statfs(dir.c_str(), &fs) == 0 && static_cast<unsigned long>(fs.f_type) == BPF_FS_MAGIC;
}

Status ensure_bpffs(const std::string& dir) {
  if (is_bpffs(dir)) return ok();
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return errno_error("mkdir " + dir);
  // A directory on another filesystem is fine to mount over; a foreign mount point is not.
  struct stat here {};
  struct stat parent {};
  if (stat(dir.c_str(), &here) == 0 && stat((dir + "/..").c_str(), &parent) == 0 &&
      here.st_dev != parent.st_dev) {
    return make_error(ErrorCode::kAlreadyExists, dir + " is a mount point of another filesystem");
  }
  if (mount("bpf", dir.c_str(), "bpf", 0, "mode=0700") != 0) {
    return errno_error("mount bpffs at " + dir);
  }
  return ok();
}

}  // namespace rail::dataplane
