// SingleNodeTopology: namespaces, bridge, addresses, static neighbours, XDP_PASS peer, decap.
#include "single_node_topology.h"

#include <utility>

#include "core/net/address.h"

namespace rail::e2e {

std::string SingleNodeTopology::backend_ip(int i) {
  return "198.18.0." + std::to_string(21 + i);
}

Result<std::string> mac_of(const Netns& ns, const std::string& ifname) {
  auto text = ns.exec("cat /sys/class/net/" + ifname + "/address");
  if (!text) return text.error();
  while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
  return std::move(*text);
}

Result<std::unique_ptr<SingleNodeTopology>> SingleNodeTopology::create(const Options& options) {
  std::unique_ptr<SingleNodeTopology> topology(new SingleNodeTopology(options));
  RAIL_TRY(topology->build());
  return topology;
}

SingleNodeTopology::~SingleNodeTopology() {
  decaps_.clear();
  peer_pass_.reset();
  trivial_.reset();
  veths_.clear();
  namespaces_.clear();
}

Status SingleNodeTopology::build() {
  std::vector<std::string> roles = {"switch", "client", "rail"};
  for (int i = 0; i < options_.backends; ++i) roles.push_back("b" + std::to_string(i));
  for (const auto& role : roles) {
    auto ns = Netns::create(role);
    if (!ns) return ns.error();
    namespaces_.push_back(std::move(*ns));
  }
  // One L2 segment: every node's veth peer is a port of br0 in the switch namespace.
  std::vector<std::pair<std::string, std::string>> links = {{"c0", "pc"}, {"r0", "pr"}};
  for (int i = 0; i < options_.backends; ++i) links.emplace_back("b0", "pb" + std::to_string(i));
  for (size_t i = 0; i < links.size(); ++i) {
    auto veth = VethPair::create(namespaces_[i + 1], links[i].first, sw(), links[i].second);
    if (!veth) return veth.error();
    veths_.push_back(std::move(*veth));
  }
  RAIL_TRY(sw().exec("ip link add br0 type bridge"));
  RAIL_TRY(sw().exec("ip link set br0 up"));
  for (const auto& [node_if, port] : links)
    RAIL_TRY(sw().exec("ip link set " + port + " master br0"));

  RAIL_TRY(client().exec(std::string("ip addr add ") + kClientIp + "/24 dev c0"));
  RAIL_TRY(rail().exec(std::string("ip addr add ") + kRailIp + "/24 dev r0"));
  auto client_mac = mac_of(client(), "c0");
  if (!client_mac) return client_mac.error();
  client_mac_ = *client_mac;
  auto rail_mac = mac_of(rail(), "r0");
  if (!rail_mac) return rail_mac.error();
  rail_mac_ = *rail_mac;
  // The client reaches the VIP through the Rail node.
  RAIL_TRY(client().exec(std::string("ip route add ") + kVip + "/32 via " + kRailIp));
  RAIL_TRY(client().exec(std::string("ip neigh replace ") + kRailIp + " lladdr " + rail_mac_ +
                         " dev c0 nud permanent"));
  for (int i = 0; i < options_.backends; ++i) {
    const Netns& b = backend(i);
    RAIL_TRY(b.exec("ip addr add " + backend_ip(i) + "/24 dev b0"));
    RAIL_TRY(b.exec(std::string("ip addr add ") + kVip + "/32 dev lo"));
    // DSR backend settings: never answer ARP for the VIP, never announce it; rp_filter off
    // for decapsulated packets (docs/decap.md). Replies go straight to the client.
    for (const char* sysctl :
         {"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.b0.rp_filter=0",
          "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"}) {
      RAIL_TRY(b.exec(std::string("sysctl -qw ") + sysctl));
    }
    RAIL_TRY(b.exec(std::string("ip neigh replace ") + kClientIp + " lladdr " + client_mac_ +
                    " dev b0 nud permanent"));
    auto mac = mac_of(b, "b0");
    if (!mac) return mac.error();
    backend_macs_.push_back(*mac);
    RAIL_TRY(rail().exec("ip neigh replace " + backend_ip(i) + " lladdr " + *mac +
                         " dev r0 nud permanent"));
  }

  // XDP_TX out of r0 is delivered only if its peer (pr) runs an XDP program too.
  auto trivial = dataplane::BpfSkeleton<trivial_bpf_traits>::open();
  if (!trivial) return trivial.error();
  trivial_.emplace(std::move(*trivial));
  RAIL_TRY(trivial_->load());
  RAIL_TRY(sw().run([&]() -> Status {
    auto a = dataplane::XdpAttachment::attach("pr", bpf_program__fd((*trivial_)->progs.xdp_pass),
                                              dataplane::XdpMode::kNative);
    if (!a) return a.error();
    peer_pass_.emplace(std::move(*a));
    return ok();
  }));

  for (int i = 0; i < options_.backends; ++i) {
    auto program = dataplane::DecapProgram::load();
    if (!program) return program.error();
    RAIL_TRY(program->add_address(*IpAddress::parse(backend_ip(i))));
    decaps_.push_back(std::move(*program));
    RAIL_TRY(backend(i).run([&] { return decaps_.back().attach_tc("b0"); }));
  }
  return ok();
}

}  // namespace rail::e2e
