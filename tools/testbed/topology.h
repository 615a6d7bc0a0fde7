// Topology: the testbed's YAML file (docs/testbed.md) and the fixed addressing derived from it.
//
// Every address of a testbed follows from its topology: the fabric 198.18.0.0/24 +
// 2001:db8::/64, clients in 198.18.1.0/24 + 2001:db8:1::/64, VIPs 198.18.100.1 and
// 2001:db8:100::1. Only 198.18.0.0/15 and 2001:db8::/32 are ever used.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/net/address.h"
#include "core/result.h"

namespace rail::testbed {

enum class Ingress { kPlain, kGre };      // how the router hands VIP packets to Rail nodes
enum class Balancer { kRail, kHaproxy };  // what runs on the balancer nodes
enum class Family { kV4, kV6 };

const char* to_string(Ingress ingress);
const char* to_string(Balancer balancer);
const char* to_string(Family family);

// raild's per-pool health check (docs/config.md "check"); the port is the topology's port.
struct HealthCheck {
  std::string type = "tcp";  // tcp | http | udp | none
  std::chrono::milliseconds interval{200};
  std::chrono::milliseconds timeout{200};
  uint32_t rise = 1;
  uint32_t fall = 2;
};

struct Topology {
  std::string name = "demo";  // [a-z0-9], 1..8 chars: namespaces are rtb-<name>-<role>
  int rail_nodes = 2;         // 1..16 balancer nodes (rail1.. or lb1..)
  int backends = 4;           // 1..99 (b1..)
  int clients = 1;            // 1..8 (client1..)
  int client_sources = 50;    // source addresses per client; clients * this <= 240
  Ingress ingress = Ingress::kPlain;
  std::vector<Family> families = {Family::kV4, Family::kV6};  // non-empty, no duplicates
  Balancer balancer = Balancer::kRail;
  uint16_t port = 8080;         // service port of the TCP and UDP VIPs
  uint32_t table_size = 65537;  // Maglev table size (prime; raild checks it)
  HealthCheck check;

  bool has(Family family) const;
  // "rail" or "lb": the role prefix of balancer nodes.
  std::string node_prefix() const { return balancer == Balancer::kRail ? "rail" : "lb"; }
};

// Parses topology text; errors list every problem as "SOURCE:LINE:COLUMN: FIELD: what".
Result<Topology> parse_topology(std::string_view text, std::string_view source_name);
// Reads and parses a file (errors as above; an unreadable file names the errno).
Result<Topology> load_topology(const std::string& path);

// ---- Fixed addressing (docs/testbed.md). Indices are 1-based, as in role names. ----
IpAddress vip(Family family);                     // 198.18.100.1, 2001:db8:100::1
std::string vip_prefix(Family family);            // "198.18.100.0/24", "2001:db8:100::/64"
IpAddress router_fabric(Family family);           // 198.18.0.1, 2001:db8::1
IpAddress router_client_side(Family family);      // 198.18.1.1, 2001:db8:1::1
IpAddress node_address(int i, Family family);     // 198.18.0.(10+i), 2001:db8::(10+i)
IpAddress backend_address(int j, Family family);  // 198.18.0.(100+j), 2001:db8::(100+j)
// Source n (0-based) of client k: 198.18.1.(10 + (k-1)*S + n); IPv6 counts in hex from
// 2001:db8:1::10 so that a range "FIRST-LAST" is contiguous.
IpAddress client_source(const Topology& t, int k, int n, Family family);
int prefix_length(Family family);  // 24 or 64 (fabric and client subnets)

}  // namespace rail::testbed
