// rail.yaml -> DaemonConfig: parse, check, and report every problem with FILE:LINE:COLUMN.
//
// The error (kInvalidArgument; kNotFound/kSystem for an unreadable file) lists every problem,
// one per line, in file order: `rail.yaml:12:7: vips[0].port: 70000 is not a port ...`.
// Nothing throws: yaml-cpp's exceptions are caught here. The schema is docs/config.md.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "daemon/config/daemon_config.h"

namespace rail::daemon {

// `source_name` is what messages call the text ("rail.yaml", "PUT /config").
Result<DaemonConfig> parse_config(std::string_view text, std::string_view source_name);

Result<DaemonConfig> load_config_file(const std::string& path);

}  // namespace rail::daemon
