// ConfigStore: the running config on disk, replaced atomically so a crash never leaves half a file.
//
// save() writes a temp file in the target's directory, fsyncs it, renames it over the target
// and fsyncs the directory: after a crash the target holds either the old or the new config,
// complete. A crash before the rename leaves a stale temp file, which remove_stale_temps()
// cleans up at start-up. Errors are Results whose message carries the path and errno text.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "daemon/config/daemon_config.h"

namespace rail::daemon {

// The atomic replace on its own (temp + fsync + rename + fsync of the directory).
Status write_file_atomically(const std::string& path, std::string_view bytes);

class ConfigStore {
 public:
  explicit ConfigStore(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  Status save(const DaemonConfig& config) const;
  // kNotFound when nothing was saved yet (first start); the loader's errors otherwise.
  Result<DaemonConfig> load() const;
  // Deletes temp files an interrupted save() left next to the target; returns how many.
  Result<int> remove_stale_temps() const;

  // Temp files are "<dir>/.<name>.tmp-XXXXXX": hidden, and never mistaken for the target.
  static std::string temp_prefix(const std::string& path);

 private:
  std::string path_;
};

}  // namespace rail::daemon
