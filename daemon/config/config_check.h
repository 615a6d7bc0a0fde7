// Checks across a parsed DaemonConfig: names, references, counts, families, and LbConfig rules.
//
// Runs after the loader has read every field (types and ranges are the loader's business) and
// reports by field path; Diagnostics turns paths into positions where the loader located them.
#pragma once

#include <string>
#include <vector>

#include "daemon/config/daemon_config.h"
#include "daemon/config/diagnostics.h"

namespace rail::daemon {

// `pool_paths[i]` is where pools[i] was written ("pools[1]", or "vips[3].pool" for an inline
// pool); missing entries default to "pools[i]".
void check_config(const DaemonConfig& config, const std::vector<std::string>& pool_paths,
                  Diagnostics& diag);

}  // namespace rail::daemon
