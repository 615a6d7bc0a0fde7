// ViaVipProbes: raild's side of check.via_vip. Gives each checked backend of a via-VIP pool a
// probe id (its SO_MARK), keeps the tc egress encapsulator's target for it (GRE over IPv4 to
// the backend, next-hop MAC), and returns the probe target: the VIP, the check port, the
// node's outer source, the mark. docs/health-checks.md "Via-VIP checks".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "daemon/config/daemon_config.h"
#include "daemon/controller/event_log.h"
#include "daemon/health/health_spec.h"
#include "dataplane/probe_encap.h"

namespace rail::daemon {

class ViaVipProbes {
 public:
  // `interfaces`: node.interfaces (the program goes on the egress of each); `interface_mac`:
  // the outer frames' source MAC.
  ViaVipProbes(std::vector<std::string> interfaces, MacAddress interface_mac, EventLog& log);

  // Loads and attaches the encapsulator now (raild does this at start when a pool has
  // via_vip, so a failure stops it instead of degrading checks).
  Status start();

  // ControllerOptions::via_vip_probe. nullopt (probe directly, logged) when the pool is served
  // by no GRE/IPv4 VIP, the ids are exhausted, or the encapsulator could not be loaded. With no
  // next hop yet the target is withdrawn: the probe is dropped by the program and fails, as a
  // flow to that backend would be dropped (no_nexthop).
  std::optional<health::ProbeTarget> target(const DaemonConfig& config, const Pool& pool,
                                            const PoolBackend& backend,
                                            std::optional<MacAddress> next_hop);

 private:
  std::vector<std::string> interfaces_;
  MacAddress interface_mac_;
  EventLog& log_;
  std::optional<dataplane::ProbeEncapProgram> program_;
  bool failed_ = false;  // start() failed once: not retried on every change
  std::map<std::pair<std::string, IpAddress>, uint32_t> ids_;  // (pool, backend) -> probe id
  std::map<uint32_t, std::optional<dataplane::ProbeEncapTarget>> set_;  // what the map holds
};

}  // namespace rail::daemon
