// The router side of the testbed in two namespaces: a "router" whose veth rr0 sends VIP traffic
// through its GRE encapsulator (tools/router_encap) to one peer (a Rail node or a backend).
//
//   router ns  rr0 198.18.0.1, 2001:db8:e::1 ── peer ns  PEER_IF 198.18.0.2, 2001:db8:e::2
//   routes 198.18.100.0/24 and 2001:db8:100::/48 via the peer (static neighbours: no ARP/ND);
//   RouterGreEncap on rr0's tc egress: those VIP prefixes, the peer as the one node.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/net/address.h"
#include "core/result.h"
#include "netns.h"
#include "router_encap/router_gre_encap.h"

namespace rail::e2e {

class RouterPeerTopology {
 public:
  static constexpr const char* kRouter4 = "198.18.0.1";
  static constexpr const char* kPeer4 = "198.18.0.2";  // the peer's tunnel endpoint
  static constexpr const char* kRouter6 = "2001:db8:e::1";
  static constexpr const char* kPeer6 = "2001:db8:e::2";

  struct Options {
    std::string peer_role;  // the peer namespace's role in its name ("node", "backend")
    std::string peer_if;    // the peer's end of the veth
  };

  // Builds it all; on error, what was built so far is torn down.
  static Result<std::unique_ptr<RouterPeerTopology>> create(const Options& options);
  // The encapsulator detaches (in the router namespace) before the veth and namespaces go.
  ~RouterPeerTopology();
  RouterPeerTopology(const RouterPeerTopology&) = delete;
  RouterPeerTopology& operator=(const RouterPeerTopology&) = delete;

  const Netns& router() const { return *router_; }
  const Netns& peer() const { return *peer_; }
  const MacAddress& peer_mac() const { return peer_mac_; }
  testbed::RouterGreEncap& encap() { return *encap_; }

 private:
  RouterPeerTopology() = default;
  Status build(const Options& options);

  // Declared in build order: destroyed in reverse.
  std::optional<Netns> router_, peer_;
  std::optional<VethPair> veth_;
  MacAddress peer_mac_;
  std::optional<testbed::RouterGreEncap> encap_;
};

}  // namespace rail::e2e
