// DaemonConfig -> rail.yaml text, every field spelled out (what the state file persists).
//
// parse_config(to_yaml(c)) == c for every valid config: the state file must load back into
// exactly the running config. Inline pools come out as named pools (they were hoisted).
#pragma once

#include <string>

#include "daemon/config/daemon_config.h"

namespace rail::daemon {

std::string to_yaml(const DaemonConfig& config);

}  // namespace rail::daemon
