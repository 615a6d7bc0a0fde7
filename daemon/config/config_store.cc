// ConfigStore: atomic replace (temp, fsync, rename, fsync dir) and load of the state file.
#include "daemon/config/config_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/config/config_writer.h"
#include "daemon/config/yaml_loader.h"

namespace rail::daemon {
namespace {

Error sys_error(const std::string& what, const std::string& path, int err) {
  ErrorCode code = err == ENOENT                   ? ErrorCode::kNotFound
                   : err == EACCES || err == EPERM ? ErrorCode::kPermission
                                                   : ErrorCode::kSystem;
  return make_error(code, path + ": " + what + ": " + std::strerror(err));
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("write", path, errno);
    bytes.remove_prefix(size_t(n));
  }
  return ok();
}

}  // namespace

std::string ConfigStore::temp_prefix(const std::string& path) {
  std::string dir = dir_of(path);
  return (dir == "/" ? "" : dir) + "/." + base_of(path) + ".tmp-";
}

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  std::string tmp = ConfigStore::temp_prefix(path) + "XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return sys_error("cannot create a temp file in " + dir_of(path), path, errno);
  auto fail = [&](Error e) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  };
  // Readable by operators (mkstemp makes 0600); the file holds no secrets, only their paths.
  if (::fchmod(fd, 0644) != 0) return fail(sys_error("fchmod", tmp, errno));
  if (Status st = write_all(fd, bytes, tmp); !st) return fail(st.error());
  // Data on disk before the rename publishes it: otherwise a crash can expose an empty file.
  if (::fsync(fd) != 0) return fail(sys_error("fsync", tmp, errno));
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sys_error("close", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sys_error("rename", path, err);
  }
  // The rename itself is durable only once the directory is synced.
  std::string dir = dir_of(path);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return sys_error("open directory", dir, errno);
  int rc = ::fsync(dfd);
  int err = errno;
  ::close(dfd);
  if (rc != 0) return sys_error("fsync directory", dir, err);
  return ok();
}

Status ConfigStore::save(const DaemonConfig& config) const {
  std::string text =
      "# The running configuration of raild, written by raild. Edits here are overwritten.\n" +
      to_yaml(config);
  return write_file_atomically(path_, text);
}

Result<DaemonConfig> ConfigStore::load() const {
  return load_config_file(path_);
}

Result<int> ConfigStore::remove_stale_temps() const {
  std::string dir = dir_of(path_);
  std::string prefix = "." + base_of(path_) + ".tmp-";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys_error("open directory", dir, errno);
  int removed = 0;
  Status status = ok();
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    std::string full = (dir == "/" ? "" : dir) + "/" + name;
    if (::unlink(full.c_str()) == 0)
      ++removed;
    else if (status)
      status = sys_error("unlink", full, errno);
  }
  ::closedir(d);
  if (!status) return status.error();
  return removed;
}

}  // namespace rail::daemon
