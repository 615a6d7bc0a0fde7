// RouterPeerTopology: two namespaces, one veth, routes to the VIPs, the router's encapsulator.
#include "router_peer_topology.h"

#include <utility>

#include "single_node_topology.h"

namespace rail::e2e {

Result<std::unique_ptr<RouterPeerTopology>> RouterPeerTopology::create(const Options& options) {
  std::unique_ptr<RouterPeerTopology> topology(new RouterPeerTopology());
  RAIL_TRY(topology->build(options));
  return topology;
}

RouterPeerTopology::~RouterPeerTopology() {
  encap_.reset();
  veth_.reset();
  peer_.reset();
  router_.reset();
}

Status RouterPeerTopology::build(const Options& options) {
  auto router = Netns::create("router");
  if (!router) return router.error();
  router_.emplace(std::move(*router));
  auto peer = Netns::create(options.peer_role);
  if (!peer) return peer.error();
  peer_.emplace(std::move(*peer));
  auto veth = VethPair::create(*router_, "rr0", *peer_, options.peer_if);
  if (!veth) return veth.error();
  veth_.emplace(std::move(*veth));
  auto mac_text = mac_of(*peer_, options.peer_if);
  if (!mac_text) return mac_text.error();
  auto mac = MacAddress::parse(*mac_text);
  if (!mac) return mac.error();
  peer_mac_ = *mac;

  const std::string mac_str = peer_mac_.to_string();
  for (const std::string& cmd :
       {"ip addr add " + std::string(kRouter4) + "/24 dev rr0",
        "ip addr add " + std::string(kRouter6) + "/64 dev rr0 nodad",
        // The router's route to the VIPs: the peer is the next hop (ECMP of one).
        "ip route add 198.18.100.0/24 via " + std::string(kPeer4),
        "ip -6 route add 2001:db8:100::/48 via " + std::string(kPeer6),
        "ip neigh replace " + std::string(kPeer4) + " lladdr " + mac_str + " dev rr0",
        "ip -6 neigh replace " + std::string(kPeer6) + " lladdr " + mac_str + " dev rr0"}) {
    RAIL_TRY(router_->exec(cmd));
  }
  RAIL_TRY(peer_->exec("ip addr add " + std::string(kPeer4) + "/24 dev " + options.peer_if));
  RAIL_TRY(
      peer_->exec("ip addr add " + std::string(kPeer6) + "/64 dev " + options.peer_if + " nodad"));

  auto encap = testbed::RouterGreEncap::load({.outer_source_v4 = *IpAddress::parse(kRouter4),
                                              .outer_source_v6 = *IpAddress::parse(kRouter6)});
  if (!encap) return encap.error();
  encap_.emplace(std::move(*encap));
  RAIL_TRY(encap_->add_vip_prefix(*testbed::IpPrefix::parse("198.18.100.0/24")));
  RAIL_TRY(encap_->add_vip_prefix(*testbed::IpPrefix::parse("2001:db8:100::/48")));
  RAIL_TRY(encap_->add_node(peer_mac_, *IpAddress::parse(kPeer4), *IpAddress::parse(kPeer6)));
  return router_->run([&] { return encap_->attach_tc_egress("rr0"); });
}

}  // namespace rail::e2e
