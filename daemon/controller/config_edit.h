// Config edits made through the API, as pure functions: running DaemonConfig + change -> the
// candidate DaemonConfig, fully validated, or every problem with it.
//
// Each result is what the loader would make of rail.yaml with that change, so an API change can
// never produce a config that the file could not express, and the state file written afterwards
// always loads back. Without the whole-config round trip (to_yaml + parse_config, tens of ms
// with 1000 backends): a new entry (VIP, backend) alone is read by the loader's rules
// (read_vip_entry, read_pool_backend) at the field path it will have, a weight by its range
// check, and check_config runs on the candidate (~0.1-1 ms). Error kinds: kInvalidArgument
// (every problem, one per line, "FIELD.PATH: message", the loader's), kNotFound (unknown VIP,
// pool or backend), kAlreadyExists (a VIP name or pool backend taken).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "daemon/config/daemon_config.h"

namespace rail::daemon {

// Loads `config` back through the loader (to_yaml + parse_config; the reference the edits are
// tested against); the error's lines lose their FILE:LINE:COLUMN (the text was generated,
// positions would point nowhere an operator can see).
Result<DaemonConfig> revalidate(const DaemonConfig& config);

// `vip_document`: one VIP in the config's shape (a YAML or JSON mapping: name, address, port,
// pool as a name or an inline {backends, check} mapping...), appended to vips; problems are
// reported at its path there ("vips[N].port", "vips[N].pool.backends[0]").
Result<DaemonConfig> with_vip(const DaemonConfig& config, std::string_view vip_document);
// Removes the VIP and, if it had an inline pool (named after it), that pool unless another VIP
// names it.
Result<DaemonConfig> without_vip(const DaemonConfig& config, const std::string& name);

// `backend_document`: {address, weight, name} as in a pool's backends list.
Result<DaemonConfig> with_backend(const DaemonConfig& config, const std::string& pool,
                                  std::string_view backend_document);
Result<DaemonConfig> without_backend(const DaemonConfig& config, const std::string& pool,
                                     const IpAddress& address);
Result<DaemonConfig> with_weight(const DaemonConfig& config, const std::string& pool,
                                 const IpAddress& address, uint32_t weight);

}  // namespace rail::daemon
