// Testbed::Impl: the state of one testbed and the building blocks of up() (internal header).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/decap_program.h"
#include "dataplane/xdp_attachment.h"
#include "tools/testbed/testbed.h"

#ifdef RAIL_TESTBED_HAS_GRE
#include "tools/router_encap/router_gre_encap.h"
#endif

namespace rail::testbed {

// Interface names: eth0 is every machine's fabric (or client-side) link; the switch's port to
// ROLE is p-ROLE; the router's port to client k is cK on the bridge brc.
inline constexpr const char* kFabricIf = "eth0";
inline constexpr int kFabricMtu = 1600;
inline constexpr uint16_t kApiPort = 9180;

// The fabric address octet of a role (router 1, node i 10+i, backend j 100+j) -> its MACs.
std::string machine_mac(int octet);  // the machine's eth0: 02:00:c6:12:00:XX
std::string port_mac(int octet);     // its switch port:    02:01:c6:12:00:XX

struct Testbed::Impl {
  Topology topo;
  UpOptions opts;
  std::string dir;  // state dir
  // Declared first so it is destroyed last: children are killed explicitly before it goes.
  Spawner spawner;
  std::optional<StateFile> state;
  std::vector<std::string> namespaces;              // created (to delete)
  std::vector<dataplane::XdpAttachment> peer_pass;  // XDP_PASS on each rail node's switch port
  std::vector<dataplane::DecapProgram> decaps;      // one per backend
#ifdef RAIL_TESTBED_HAS_GRE
  std::optional<RouterGreEncap> router_encap;
#endif
  std::vector<Process> balancers;  // [i-1]: raild or haproxy of node i
  std::vector<Process> servers;    // [j-1]: rail-nameserver of backend j
  std::vector<bool> active;        // [i-1]: node i is in the router's ECMP route
  mutable std::recursive_mutex mu;

  void progress(const std::string& line) const {
    if (opts.progress) opts.progress(line);
  }
  std::string ns(const std::string& role) const {
    return namespace_prefix(topo.name) + role;
  }
  std::string node_role(int i) const {
    return topo.node_prefix() + std::to_string(i);
  }
  std::string role_dir(const std::string& role) const {
    return dir + "/" + role;
  }

  // `ip -n NS -batch FILE` of `lines` (kept as STATE/ip/NAME.batch for debugging).
  Status ip_batch(const std::string& role, const std::string& label,
                  const std::vector<std::string>& lines);
  Status sysctl(const std::string& role, const std::vector<std::string>& settings);
  Status offloads_off(const std::string& role, const std::string& ifname);
  Status run_in(const std::string& role, const std::function<Status()>& fn) const;

  // up()'s steps (build.cc).
  Status build();
  Status create_namespaces();
  Status build_fabric();
  Status build_clients();
  Status configure_router();
  Status configure_node(int i);  // addresses, routes, static neighbours
  Status configure_nodes();
  Status configure_backends();
  // The router's VIP routes: ECMP over the active nodes (unreachable when none).
  Status set_router_routes();

  // Processes and readiness (nodes.cc).
  Status start_server(int j);
  Status wait_server(int j);
  Status start_balancer(int i);
  Status wait_balancer_ready(int i, std::chrono::milliseconds limit);
  std::string raild_config(int i) const;
  std::string haproxy_config(int i) const;
  Result<int> http_get(int i, const std::string& path, std::string& body) const;
  Status record_state();
  void teardown();
};

// Last `lines` lines of a file (for error messages).
std::string log_tail(const std::string& path, int lines = 15);

}  // namespace rail::testbed
