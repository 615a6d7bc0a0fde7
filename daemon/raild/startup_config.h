// Which config raild starts with: the operator's file, or the persisted state file when that
// is newer (it then holds API changes made after the file was last edited). docs/raild.md.
#pragma once

#include <string>

#include "core/result.h"
#include "daemon/config/daemon_config.h"
#include "daemon/controller/runtime_state.h"

namespace rail::daemon {

struct StartupConfig {
  DaemonConfig config;
  RuntimeState runtime;  // empty when no runtime file was found
  std::string source;    // the path the config came from
  std::string note;      // why (for the start-up log line)
};

// Loads `config_path`; if node.state_file exists, loads and is newer (mtime) than the file,
// uses it instead. A state file that does not load is reported in `note` and ignored.
Result<StartupConfig> load_startup_config(const std::string& config_path);

}  // namespace rail::daemon
