// Testbed: a whole Rail deployment on one machine, built from network namespaces (issue 5).
//
//   clients -> router (ECMP over the balancer nodes, L4 hash; plain or GRE) -> Rail nodes
//   (the real raild, XDP) -> backends (VIPs on lo, decap program, rail-nameserver); replies go
//   from the backends via the router straight to the clients (direct server return).
//
// Addressing and names are fixed (tools/testbed/topology.h, docs/testbed.md). Roles name the
// machines: "sw" (the fabric's bridge), "router", "client1".., "rail1".. (or "lb1.." with
// balancer: haproxy), "b1".. Every namespace is rtb-NAME-ROLE.
//
// Lifetime: up() builds everything and returns once every balancer node is ready and every
// backend healthy on every node; the destructor removes everything (processes, namespaces,
// programs, the state dir), also after failures half-way through up(). A crashed owner leaves
// /run/rail-testbed/NAME/state.json for `rail-testbed down NAME` (sweep()). Every child process
// dies with the owning process (parent-death signal).
//
// Thread safety: every method may be called from any thread; changes are serialised.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/net/address.h"
#include "core/result.h"
#include "tools/testbed/process.h"
#include "tools/testbed/state.h"
#include "tools/testbed/topology.h"

namespace rail::testbed {

struct UpOptions {
  // Called with one line per step ("rail1: raild ready"), from the calling thread.
  std::function<void(const std::string&)> progress;
  // Bound on waiting for raild /readyz + every backend healthy (or HAProxy's checks).
  std::chrono::milliseconds ready_timeout{20000};
  // Where state dirs live (state.json, configs, logs): ROOT/NAME.
  std::string state_root = kStateRoot;
  // Directory of raild, railctl, rail-nameserver, ...; "" = $RAIL_BIN_DIR, else the paths of
  // the build that compiled this library.
  std::string bin_dir;
};

class Testbed {
 public:
  // Builds the topology (first sweeping leftovers of a crashed testbed of the same name; a
  // testbed of that name whose owner still runs is an error). Errors name what failed or
  // what is not ready, with the tail of the relevant log.
  static Result<Testbed> up(const Topology& topology, const UpOptions& options = {});

  Testbed(Testbed&&) noexcept;
  Testbed& operator=(Testbed&&) noexcept;
  ~Testbed();  // complete teardown, always

  const Topology& topology() const;
  const std::string& name() const;
  // The state dir (configs, logs): ROOT/NAME.
  const std::string& state_dir() const;

  // "client1", "router", "rail2", "b3", "sw" -> "rtb-NAME-ROLE" (no check that it exists).
  std::string ns(const std::string& role) const;
  // Roles of the balancer nodes ("rail1".. or "lb1..") and of backends ("b1"..).
  std::string node_role(int i) const;
  static std::string backend_role(int j) { return "b" + std::to_string(j); }

  IpAddress vip(Family family) const { return testbed::vip(family); }
  uint16_t port() const;
  // Source range of client k (1-based) for the traffic tools: "FIRST-LAST" (inclusive).
  std::string sources(int client, Family family) const;
  // raild's names: pool of the backends' addresses of one family ("web", "web6") and the VIPs
  // ("tcp4", "udp4", "tcp6", "udp6").
  static std::string pool(Family family) { return family == Family::kV4 ? "web" : "web6"; }
  static std::string vip_name(Family family, bool udp);

  // Runs `/bin/sh -c shell_command` in the role's namespace; its stdout+stderr, or an error
  // (with that output) if it exits non-zero.
  Result<std::string> exec(const std::string& role, const std::string& shell_command) const;
  // Starts argv in the role's namespace in the background, stdout+stderr appended to log_path.
  // The Process kills and reaps it when destroyed; it also dies with the testbed's owner.
  Result<Process> spawn(const std::string& role, std::vector<std::string> argv,
                        const std::string& log_path);

  // Stops / starts backend j's rail-nameserver (so its health checks fail / pass). start
  // returns once the server accepts connections (not waiting for raild's rise).
  Status stop_backend(int j);
  Status start_backend(int j);
  // Node failure: the router withdraws node i from ECMP (as a BGP withdrawal would), then its
  // raild (or HAProxy) is killed and its fabric link set down. start: link up, raild again,
  // ready and every backend healthy on it, then the router adds it back.
  Status stop_rail_node(int i);
  Status start_rail_node(int i);
  bool node_active(int i) const;

  // railctl ARGS against node i's raild; node 0 = every active node in turn (the same change
  // everywhere; output of each preceded by "[railI]\n"). Error if railctl fails anywhere.
  Result<std::string> railctl(int node, std::vector<std::string> args);
  // GET path from node i's raild API: body as text / parsed JSON (error on non-2xx).
  Result<std::string> api_text(int node, const std::string& path) const;
  Result<nlohmann::json> api_get(int node, const std::string& path) const;

  // Rail's data-plane counter `index` (enum rail_counter in abi/rail_abi.h, e.g.
  // RAIL_CNT_GRE_INGRESS, RAIL_CNT_RX, RAIL_CNT_DROP_REASON_BASE + reason) on node i, summed
  // over CPUs, read from the XDP program attached to its eth0 (also while raild is down).
  Result<uint64_t> rail_counter(int node, uint32_t index) const;
  // Packets the router GRE-encapsulated towards the Rail nodes (ingress: gre only).
  Result<uint64_t> router_gre_packets() const;

  // Path of a tool ("raild", "railctl", "rail-nameserver", "rail-mconnect", "rail-ctraffic",
  // "rail-tput"): bin_dir/tool if set, else $RAIL_BIN_DIR/tool, else the build's path.
  std::string binary(const std::string& tool) const;

  struct Impl;

 private:
  explicit Testbed(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `rail-testbed down NAME`: see sweep() in state.h.
inline Status down(const std::string& name, const std::string& state_root = kStateRoot,
                   std::string* removed = nullptr) {
  return sweep(state_root, name, removed);
}

// Default path of a tool (see Testbed::binary) for a given bin_dir override ("" = none).
std::string tool_path(const std::string& tool, const std::string& bin_dir);
// The directories of every known tool, "DIR1:DIR2:..." (to put in front of PATH).
std::string tool_dirs(const std::string& bin_dir);

}  // namespace rail::testbed
