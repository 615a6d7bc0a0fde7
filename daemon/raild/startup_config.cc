// Start-up config choice: file vs state file by modification time; runtime state alongside.
#include "daemon/raild/startup_config.h"

#include <sys/stat.h>

#include "daemon/config/config_store.h"
#include "daemon/config/yaml_loader.h"

namespace rail::daemon {
namespace {

std::optional<timespec> mtime(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st.st_mtim;
}

bool newer(const timespec& a, const timespec& b) {
  return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec > b.tv_nsec;
}

}  // namespace

Result<StartupConfig> load_startup_config(const std::string& config_path) {
  auto file = load_config_file(config_path);
  if (!file) return file.error();
  StartupConfig out{*file, {}, config_path, "config file"};
  const ConfigStore store(file->node.state_file);
  (void)store.remove_stale_temps();
  const auto file_time = mtime(config_path);
  const auto state_time = mtime(store.path());
  if (file_time && state_time && newer(*state_time, *file_time)) {
    if (auto saved = store.load()) {
      out.config = std::move(*saved);
      out.source = store.path();
      out.note = "state file newer than the config file";
    } else {
      out.note = "state file ignored: " + saved.error().message;
    }
  }
  if (auto rt = load_runtime_state(runtime_state_path(out.config.node.state_file)))
    out.runtime = std::move(*rt);
  return out;
}

}  // namespace rail::daemon
