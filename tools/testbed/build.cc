// Building a testbed's network: namespaces, the fabric bridge, veths, addresses, routes,
// neighbour entries, sysctls, XDP_PASS peers and decap programs (docs/testbed.md "Addressing").
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "dataplane/netns_exec.h"
#include "dataplane/skeleton.h"
#include "tools/testbed/testbed_impl.h"
#include "trivial.skel.h"

namespace rail::testbed {

RAIL_BPF_SKELETON_TRAITS(trivial_bpf);

namespace {

std::string mac(int kind, int subnet, int octet) {
  char text[32];
  std::snprintf(text, sizeof(text), "02:%02x:c6:12:%02x:%02x", kind, subnet, octet);
  return text;
}

std::string with_prefix(const IpAddress& a, int length) {
  return a.to_string() + "/" + std::to_string(length);
}

const char* nodad(Family f) {
  return f == Family::kV6 ? " nodad" : "";
}

}  // namespace

std::string machine_mac(int octet) {
  return mac(0, 0, octet);
}
std::string port_mac(int octet) {
  return mac(1, 0, octet);
}
// Client k's eth0 and the router's port to it (subnet 1); the router's client bridge is .1.
static std::string client_mac(int k) {
  return mac(0, 1, 10 + k);
}
static std::string client_port_mac(int k) {
  return mac(1, 1, 10 + k);
}
static std::string router_client_mac() {
  return mac(0, 1, 1);
}

Status Testbed::Impl::ip_batch(const std::string& role, const std::string& label,
                               const std::vector<std::string>& lines) {
  const std::string path = dir + "/ip/" + role + "-" + label + ".batch";
  {
    std::ofstream out(path, std::ios::trunc);
    for (const auto& line : lines) out << line << "\n";
    if (!out) return make_error(ErrorCode::kSystem, "cannot write " + path);
  }
  auto r = run({ip_binary(), "-n", ns(role), "-batch", path});
  if (!r) return make_error(r.error().code, role + ": " + r.error().message);
  return ok();
}

Status Testbed::Impl::sysctl(const std::string& role, const std::vector<std::string>& settings) {
  std::vector<std::string> argv = {ip_binary(), "netns", "exec", ns(role), "sysctl", "-qw"};
  argv.insert(argv.end(), settings.begin(), settings.end());
  auto r = run(argv);
  if (!r) return make_error(r.error().code, role + ": " + r.error().message);
  return ok();
}

// The kernel then writes complete checksums into every packet (XDP and the decap program see
// finished packets; docs/decap.md), and no GRO merges what the tests count.
Status Testbed::Impl::offloads_off(const std::string& role, const std::string& ifname) {
  auto r = run({ip_binary(), "netns", "exec", ns(role), "ethtool", "-K", ifname, "tx", "off", "rx",
                "off", "gso", "off", "tso", "off", "gro", "off"});
  if (!r) return make_error(r.error().code, role + ": " + r.error().message);
  return ok();
}

Status Testbed::Impl::run_in(const std::string& role, const std::function<Status()>& fn) const {
  auto fd = dataplane::NetnsFd::open("/run/netns/" + ns(role));
  if (!fd) return fd.error();
  return dataplane::run_in_netns(*fd, fn);
}

Status Testbed::Impl::create_namespaces() {
  std::vector<std::string> roles = {"sw", "router"};
  for (int k = 1; k <= topo.clients; ++k) roles.push_back("client" + std::to_string(k));
  for (int i = 1; i <= topo.rail_nodes; ++i) roles.push_back(node_role(i));
  for (int j = 1; j <= topo.backends; ++j) roles.push_back(backend_role(j));
  nlohmann::json by_role = nlohmann::json::object();
  for (const auto& role : roles) by_role[role] = ns(role);
  RAIL_TRY(state->set("roles", by_role));
  std::error_code ec;
  std::filesystem::create_directories(dir + "/ip", ec);
  for (const auto& role : roles) {
    std::filesystem::create_directories(role_dir(role), ec);
    RAIL_TRY(state->add_namespace(ns(role)));  // recorded first: a crash now leaves a record
    RAIL_TRY(run({ip_binary(), "netns", "add", ns(role)}));
    namespaces.push_back(ns(role));
    RAIL_TRY(run({ip_binary(), "-n", ns(role), "link", "set", "lo", "up"}));
    // Before any interface exists, so every interface inherits the defaults: no DAD (addresses
    // usable at once), no router advertisements, no reverse-path filter (DSR replies come
    // from the VIP; the router forwards them from the fabric).
    std::vector<std::string> settings = {
        "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
        "net.ipv6.conf.all.accept_ra=0",  "net.ipv6.conf.default.accept_ra=0",
        "net.ipv4.conf.all.rp_filter=0",  "net.ipv4.conf.default.rp_filter=0"};
    if (role == "router") {
      settings.insert(settings.end(), {"net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                                       "net.ipv4.fib_multipath_hash_policy=1",
                                       "net.ipv6.fib_multipath_hash_policy=1"});
    } else if (role[0] == 'b') {  // DSR backends: never answer ARP for the VIPs on lo
      settings.insert(settings.end(),
                      {"net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"});
    }
    RAIL_TRY(sysctl(role, settings));
  }
  progress("namespaces: " + std::to_string(roles.size()) + " (" + namespace_prefix(topo.name) +
           "*)");
  return ok();
}

// The fabric: br0 in the switch, one veth per router/node/backend, MTU 1600 everywhere.
Status Testbed::Impl::build_fabric() {
  std::vector<std::pair<std::string, int>> machines = {{"router", 1}};
  for (int i = 1; i <= topo.rail_nodes; ++i) machines.push_back({node_role(i), 10 + i});
  for (int j = 1; j <= topo.backends; ++j) machines.push_back({backend_role(j), 100 + j});
  const std::string mtu = std::to_string(kFabricMtu);
  std::vector<std::string> sw = {"link add br0 mtu " + mtu + " type bridge", "link set br0 up"};
  for (const auto& [role, octet] : machines) {
    sw.push_back("link add p-" + role + " address " + port_mac(octet) + " mtu " + mtu +
                 " type veth peer name " + kFabricIf + " address " + machine_mac(octet) + " mtu " +
                 mtu + " netns " + ns(role));
    sw.push_back("link set p-" + role + " master br0 up");
  }
  RAIL_TRY(ip_batch("sw", "fabric", sw));
  for (const auto& [role, octet] : machines) {
    RAIL_TRY(offloads_off("sw", "p-" + role));
    RAIL_TRY(offloads_off(role, kFabricIf));
  }
  progress("fabric: br0 in " + ns("sw") + ", " + std::to_string(machines.size()) + " links, MTU " +
           mtu);
  return ok();
}

// Clients: one veth each to the router's client bridge brc (MTU 1500), all their sources.
Status Testbed::Impl::build_clients() {
  std::vector<std::string> router = {"link add brc address " + router_client_mac() + " type bridge",
                                     "link set brc up"};
  for (int k = 1; k <= topo.clients; ++k) {
    const std::string port = "c" + std::to_string(k);
    router.push_back("link add " + port + " address " + client_port_mac(k) +
                     " type veth peer name " + kFabricIf + " address " + client_mac(k) + " netns " +
                     ns("client" + std::to_string(k)));
    router.push_back("link set " + port + " master brc up");
  }
  for (Family f : topo.families) {
    router.push_back("addr replace " + with_prefix(router_client_side(f), prefix_length(f)) +
                     " dev brc" + nodad(f));
  }
  RAIL_TRY(ip_batch("router", "clients", router));
  for (int k = 1; k <= topo.clients; ++k) {
    const std::string role = "client" + std::to_string(k);
    RAIL_TRY(offloads_off("router", "c" + std::to_string(k)));
    RAIL_TRY(offloads_off(role, kFabricIf));
    std::vector<std::string> lines = {std::string("link set ") + kFabricIf + " up"};
    for (Family f : topo.families) {
      for (int n = 0; n < topo.client_sources; ++n) {
        lines.push_back("addr replace " +
                        with_prefix(client_source(topo, k, n, f), prefix_length(f)) + " dev " +
                        kFabricIf + nodad(f));
      }
      lines.push_back(std::string("route replace default via ") +
                      router_client_side(f).to_string());
      lines.push_back("neigh replace " + router_client_side(f).to_string() + " lladdr " +
                      router_client_mac() + " dev " + kFabricIf + " nud permanent");
    }
    RAIL_TRY(ip_batch(role, "addresses", lines));
  }
  progress("clients: " + std::to_string(topo.clients) + " x " +
           std::to_string(topo.client_sources) + " sources per family");
  return ok();
}

Status Testbed::Impl::configure_router() {
  std::vector<std::string> lines = {std::string("link set ") + kFabricIf + " up"};
  for (Family f : topo.families) {
    lines.push_back("addr replace " + with_prefix(router_fabric(f), prefix_length(f)) + " dev " +
                    kFabricIf + nodad(f));
    // Static neighbours: ECMP next hops and backends resolve without ARP/ND races.
    for (int i = 1; i <= topo.rail_nodes; ++i)
      lines.push_back("neigh replace " + node_address(i, f).to_string() + " lladdr " +
                      machine_mac(10 + i) + " dev " + kFabricIf + " nud permanent");
    for (int j = 1; j <= topo.backends; ++j)
      lines.push_back("neigh replace " + backend_address(j, f).to_string() + " lladdr " +
                      machine_mac(100 + j) + " dev " + kFabricIf + " nud permanent");
  }
  RAIL_TRY(ip_batch("router", "fabric", lines));
  return ok();
}

Status Testbed::Impl::set_router_routes() {
  std::vector<std::string> lines;
  std::string summary;
  for (Family f : topo.families) {
    const std::string route = "route replace ";
    std::string hops;
    for (int i = 1; i <= topo.rail_nodes; ++i) {
      if (!active[size_t(i - 1)]) continue;
      hops += " nexthop via " + node_address(i, f).to_string() + " dev " + kFabricIf;
    }
    lines.push_back(hops.empty() ? route + "unreachable " + vip_prefix(f)
                                 : route + vip_prefix(f) + hops);
  }
  for (int i = 1; i <= topo.rail_nodes; ++i)
    if (active[size_t(i - 1)]) summary += (summary.empty() ? "" : " ") + node_role(i);
  RAIL_TRY(ip_batch("router", "routes", lines));
  if (state) RAIL_TRY(state->set("active_nodes", summary));
  return ok();
}

// Idempotent (replace everywhere): start_rail_node() runs it again after the link was down,
// which flushed the IPv6 addresses and every neighbour entry, static ones included.
Status Testbed::Impl::configure_node(int i) {
  const bool rail = topo.balancer == Balancer::kRail;
  {
    std::vector<std::string> lines = {std::string("link set ") + kFabricIf + " up"};
    for (Family f : topo.families) {
      lines.push_back("addr replace " + with_prefix(node_address(i, f), prefix_length(f)) +
                      " dev " + kFabricIf + nodad(f));
      // raild takes next-hop MACs from the neighbour table: static entries, no ARP race.
      for (int j = 1; j <= topo.backends; ++j)
        lines.push_back("neigh replace " + backend_address(j, f).to_string() + " lladdr " +
                        machine_mac(100 + j) + " dev " + kFabricIf + " nud permanent");
      lines.push_back("neigh replace " + router_fabric(f).to_string() + " lladdr " +
                      machine_mac(1) + " dev " + kFabricIf + " nud permanent");
      if (!rail) {  // HAProxy terminates connections to the VIPs: they are local addresses
        lines.push_back("addr replace " +
                        with_prefix(testbed::vip(f), f == Family::kV4 ? 32 : 128) + " dev lo");
        lines.push_back(std::string("route replace default via ") + router_fabric(f).to_string());
      }
    }
    RAIL_TRY(ip_batch(node_role(i), "addresses", lines));
  }
  return ok();
}

Status Testbed::Impl::configure_nodes() {
  for (int i = 1; i <= topo.rail_nodes; ++i) RAIL_TRY(configure_node(i));
  if (topo.balancer != Balancer::kRail) return ok();
  // XDP_TX out of a node's eth0 reaches the bridge only if its peer runs an XDP program too.
  auto trivial = dataplane::BpfSkeleton<trivial_bpf_traits>::open();
  if (!trivial) return trivial.error();
  RAIL_TRY(trivial->load());
  const int prog = bpf_program__fd((*trivial)->progs.xdp_pass);
  for (int i = 1; i <= topo.rail_nodes; ++i) {
    RAIL_TRY(run_in("sw", [&]() -> Status {
      auto a =
          dataplane::XdpAttachment::attach("p-" + node_role(i), prog, dataplane::XdpMode::kNative);
      if (!a) return a.error();
      peer_pass.push_back(std::move(*a));
      return ok();
    }));
  }  // the links keep the program loaded after the skeleton goes
  return ok();
}

Status Testbed::Impl::configure_backends() {
  const bool rail = topo.balancer == Balancer::kRail;
  for (int j = 1; j <= topo.backends; ++j) {
    const std::string role = backend_role(j);
    std::vector<std::string> lines = {std::string("link set ") + kFabricIf + " up"};
    for (Family f : topo.families) {
      lines.push_back("addr replace " + with_prefix(backend_address(j, f), prefix_length(f)) +
                      " dev " + kFabricIf + nodad(f));
      if (rail)  // DSR: the service answers from the VIP
        lines.push_back("addr replace " +
                        with_prefix(testbed::vip(f), f == Family::kV4 ? 32 : 128) + " dev lo");
      lines.push_back(std::string("route replace default via ") + router_fabric(f).to_string());
      lines.push_back("neigh replace " + router_fabric(f).to_string() + " lladdr " +
                      machine_mac(1) + " dev " + kFabricIf + " nud permanent");
    }
    RAIL_TRY(ip_batch(role, "addresses", lines));
    if (!rail) continue;
    auto decap = dataplane::DecapProgram::load();
    if (!decap) return decap.error();
    for (Family f : topo.families) RAIL_TRY(decap->add_address(backend_address(j, f)));
    decaps.push_back(std::move(*decap));
    RAIL_TRY(run_in(role, [&] { return decaps.back().attach_tc(kFabricIf); }));
  }
  progress("backends: " + std::to_string(topo.backends) +
           (rail ? " (VIPs on lo, decap on tc ingress of eth0)" : " (plain servers)"));
  return ok();
}

Status Testbed::Impl::build() {
  RAIL_TRY(create_namespaces());
  RAIL_TRY(build_fabric());
  RAIL_TRY(build_clients());
  RAIL_TRY(configure_router());
  RAIL_TRY(configure_nodes());
  RAIL_TRY(configure_backends());
#ifdef RAIL_TESTBED_HAS_GRE
  if (topo.ingress == Ingress::kGre) {
    RouterEncapOptions options;
    if (topo.has(Family::kV4)) options.outer_source_v4 = router_fabric(Family::kV4);
    if (topo.has(Family::kV6)) options.outer_source_v6 = router_fabric(Family::kV6);
    auto encap = RouterGreEncap::load(options);
    if (!encap) return encap.error();
    for (Family f : topo.families)
      RAIL_TRY(encap->add_vip_prefix(testbed::vip(f), uint8_t(f == Family::kV4 ? 24 : 64)));
    for (int i = 1; i <= topo.rail_nodes; ++i) {
      std::optional<IpAddress> v4, v6;
      if (topo.has(Family::kV4)) v4 = node_address(i, Family::kV4);
      if (topo.has(Family::kV6)) v6 = node_address(i, Family::kV6);
      auto m = MacAddress::parse(machine_mac(10 + i));
      if (!m) return m.error();
      RAIL_TRY(encap->add_node(*m, v4, v6));
    }
    router_encap.emplace(std::move(*encap));
    RAIL_TRY(run_in("router", [&] { return router_encap->attach_tc_egress(kFabricIf); }));
    progress("router: GRE encapsulation on tc egress of eth0");
  }
#else
  if (topo.ingress == Ingress::kGre)
    return make_error(ErrorCode::kUnsupported,
                      "ingress: gre needs rail_router_encap, which this build lacks");
#endif
  for (int j = 1; j <= topo.backends; ++j) RAIL_TRY(start_server(j));
  for (int j = 1; j <= topo.backends; ++j) RAIL_TRY(wait_server(j));
  progress("backends: rail-nameserver b1..b" + std::to_string(topo.backends) + " on port " +
           std::to_string(topo.port));
  for (int i = 1; i <= topo.rail_nodes; ++i) RAIL_TRY(start_balancer(i));
  const auto deadline = std::chrono::steady_clock::now() + opts.ready_timeout;
  for (int i = 1; i <= topo.rail_nodes; ++i) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    RAIL_TRY(wait_balancer_ready(i, std::max(left, std::chrono::milliseconds(0))));
  }
  active.assign(size_t(topo.rail_nodes), true);
  RAIL_TRY(set_router_routes());
  progress("router: " + vip_prefix(topo.families.front()) + " by ECMP (L4 hash) over " +
           std::to_string(topo.rail_nodes) + " nodes");
  return ok();
}

}  // namespace rail::testbed
