// rail.yaml -> DaemonConfig: parse, check, and report every problem with FILE:LINE:COLUMN.
//
// The error (kInvalidArgument; kNotFound/kSystem for an unreadable file) lists every problem,
// one per line, in file order: `rail.yaml:12:7: vips[0].port: 70000 is not a port ...`.
// Nothing throws: yaml-cpp's exceptions are caught here. The schema is docs/config.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "daemon/config/daemon_config.h"
#include "daemon/config/diagnostics.h"

namespace YAML {
class Node;
}

namespace rail::daemon {

// `source_name` is what messages call the text ("rail.yaml", "PUT /config").
Result<DaemonConfig> parse_config(std::string_view text, std::string_view source_name);

Result<DaemonConfig> load_config_file(const std::string& path);

// One entry of a pool's `backends` list (an address, or {address, weight, name}) written at
// field path `path`, read by the loader's rules; nullopt once its problems are in `diag`. For
// the API's "add a backend", which reads only the new entry, not the whole config again.
std::optional<PoolBackend> read_pool_backend(const YAML::Node& item, const std::string& path,
                                             Diagnostics& diag);

// One entry of the `vips` list: the VIP, and its inline pool if `pool` is a mapping, hoisted
// under the VIP's name (vip.pool names it, pool.name is the VIP's).
struct VipEntry {
  Vip vip;
  std::optional<Pool> inline_pool;
};

// One entry of the `vips` list written at field path `path` ("vips[3]"), read by the loader's
// rules. Problems go to `diag`, and the entry is returned even then (fields with problems keep
// their defaults), as the loader keeps it: check_config skips what has problems. For the API's
// "add a VIP", which reads only the new entry, not the whole config again.
VipEntry read_vip_entry(const YAML::Node& item, const std::string& path, Diagnostics& diag);

}  // namespace rail::daemon
