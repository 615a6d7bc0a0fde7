// LbConfig: the balancer state every data plane consumes (node settings, services, backends).
//
// This is the data model behind the reference forwarder, the XDP data plane and raild: the
// daemon turns its YAML into an LbConfig, a DataPlane applies it. Plain values; validate() says
// what is wrong with a config in words an operator can act on. The packet-level meaning of each
// field is in docs/packet-path.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "abi/rail_abi.h"
#include "core/net/address.h"
#include "core/result.h"

namespace rail {

enum class Protocol : uint8_t { kTcp = 6, kUdp = 17 };

enum class Encap : uint8_t {
  kGre = RAIL_ENCAP_GRE,
  kIpip = RAIL_ENCAP_IPIP,
  kGue = RAIL_ENCAP_GUE,
  kL2 = RAIL_ENCAP_L2,
};

// A backend's administrative/health state as the data plane sees it.
enum class BackendState : uint8_t {
  kUp = 0,       // takes new flows (in the Maglev table, with its weight)
  kDrained = 1,  // weight 0 in effect: keeps established flows, takes no new ones
  kDown = 2,     // removed: established flows move (health check failed, forced down)
};

// The config's name of an encapsulation: "gre", "ipip", "gue", "l2".
const char* encap_name(Encap e);

struct Backend {
  // Stable identity used by the Maglev permutation: `name` if set, else the address text.
  // The same backend must have the same identity on every node.
  std::string name;
  IpAddress address;
  uint32_t weight = 1;  // relative share; 0 = drained
  BackendState state = BackendState::kUp;
  // Next-hop MAC towards the backend (its own MAC for L2 DSR); zero = not resolved yet.
  MacAddress next_hop_mac;

  std::string identity() const { return name.empty() ? address.to_string() : name; }
};

struct Service {
  IpAddress vip;
  Protocol protocol = Protocol::kTcp;
  uint16_t port = 0;  // host order; 0 = any port
  Encap encap = Encap::kGre;
  uint32_t hash_fields = RAIL_HASH_5TUPLE;  // mask of enum rail_hash_field
  uint32_t table_size = 65537;              // Maglev table size M; must be prime
  std::vector<Backend> backends;
};

struct NodeSettings {
  MacAddress mac;                               // source MAC of everything the node sends
  std::optional<IpAddress> outer_source_v4;     // outer source for IPv4-encapsulated packets
  std::optional<IpAddress> outer_source_v6;     // outer source for IPv6-encapsulated packets
  std::vector<IpAddress> ingress_addresses;     // GRE from the router to these is balanced
  uint32_t mtu = 1500;                          // bytes of outer IP packet the path carries
  uint16_t gue_port = 6080;                     // GUE destination port (host order)
  bool icmp_echo = true;                        // answer ICMP echo requests to VIPs
  uint32_t hash_seed = RAIL_DEFAULT_HASH_SEED;  // must be the same on every node
};

struct LbConfig {
  NodeSettings node;
  std::vector<Service> services;

  // Checks everything a data plane relies on: prime table sizes, unique services and backend
  // identities, families (L2 needs same-family backends), outer sources present for the
  // families in use, MTU bounds of docs/packet-path.md §7. The error lists every problem.
  Status validate() const;
};

}  // namespace rail
