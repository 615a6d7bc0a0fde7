// DaemonConfig: raild's validated configuration model and its translation to the data plane's
// LbConfig.
//
// What an operator writes in rail.yaml (docs/config.md), after parsing and checking: node
// settings, backend pools with their health checks, and VIPs. Inline pools of a VIP are hoisted
// into `pools` under the VIP's name, so consumers only ever follow a pool name. to_lb_config()
// is the seam between health checking / neighbour resolution and the data plane: it takes the
// per-backend states and next-hop MACs as inputs and never does I/O itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/lb_config.h"
#include "core/net/address.h"
#include "core/result.h"
#include "daemon/health/check_type.h"

namespace rail::daemon {

using Millis = std::chrono::milliseconds;

enum class XdpMode : uint8_t { kAuto, kNative, kGeneric };
using health::CheckType;  // the health checker's own enum: no mapping between the two
enum class HashMode : uint8_t { kFiveTuple, kThreeTuple, kSourceIp };

// Where the control API listens (HTTP); default 127.0.0.1:9180 keeps it off the network.
struct ListenAddress {
  IpAddress address = IpAddress::v4(0x7f000001);
  uint16_t port = 9180;
  bool operator==(const ListenAddress&) const = default;
};

struct NodeConfig {
  std::vector<std::string> interfaces;  // attach XDP here; at least one
  XdpMode xdp_mode = XdpMode::kAuto;
  std::optional<MacAddress> mac;  // nullopt = "auto": the attached interface's MAC
  std::optional<IpAddress> outer_source_v4;
  std::optional<IpAddress> outer_source_v6;
  std::vector<IpAddress> ingress_addresses;
  uint32_t mtu = 1500;
  uint16_t gue_port = 6080;
  bool icmp_echo = true;
  bool passive_icmp = true;  // ICMP unreachable about a backend triggers its check now
  uint32_t hash_seed = RAIL_DEFAULT_HASH_SEED;
  ListenAddress api_listen;
  std::string api_token_file;  // empty = no bearer token required
  std::string bpffs_dir = "/sys/fs/bpf/rail";
  std::string state_file = "/var/lib/rail/running.yaml";
  bool operator==(const NodeConfig&) const = default;
};

struct HealthCheck {
  CheckType type = CheckType::kNone;
  uint16_t port = 0;  // the loader fills http 80 / https 443 when omitted; 0 only for none
  std::string path = "/";
  std::string host;       // empty = the backend's address
  uint16_t expect = 200;  // HTTP status that means healthy
  Millis interval{2000};
  Millis timeout{1000};
  uint32_t rise = 2;  // consecutive successes to go up
  uint32_t fall = 3;  // consecutive failures to go down
  bool tls_verify = false;
  bool via_vip = false;  // probe the VIP through the encapsulation, as real traffic flows
  bool operator==(const HealthCheck&) const = default;
};

struct PoolBackend {
  IpAddress address;
  uint32_t weight = 1;
  std::string name;  // optional stable identity (else the address)
  bool operator==(const PoolBackend&) const = default;
};

struct Pool {
  std::string name;
  std::vector<PoolBackend> backends;
  HealthCheck check;
  bool operator==(const Pool&) const = default;
};

struct Vip {
  std::string name;
  IpAddress address;
  Protocol protocol = Protocol::kTcp;
  uint16_t port = 0;  // 0 = any
  Encap encap = Encap::kGre;
  HashMode hash = HashMode::kFiveTuple;
  uint32_t table_size = 65537;
  std::string pool;   // name in DaemonConfig::pools
  uint32_t need = 1;  // fewer healthy backends than this: the VIP is unhealthy
  bool operator==(const Vip&) const = default;
};

struct DaemonConfig {
  NodeConfig node;
  std::vector<Pool> pools;
  std::vector<Vip> vips;

  const Pool* find_pool(const std::string& name) const;
  bool operator==(const DaemonConfig&) const = default;
};

// Health seam: the state of one backend of one pool, as the checker last saw it.
struct BackendKey {
  std::string pool;
  IpAddress address;
  auto operator<=>(const BackendKey&) const = default;
};
using HealthStates = std::map<BackendKey, BackendState>;

struct RuntimeInputs {
  // Backends of checked pools missing here get `unknown_state` (a fresh daemon has not
  // checked anything yet); backends of `type: none` pools are always up.
  const HealthStates* health = nullptr;
  BackendState unknown_state = BackendState::kDown;
  // Next-hop MAC towards a backend (from the kernel neighbour table); nullopt = unresolved,
  // which the data plane drops as NO_NEXTHOP. Unset callback = all unresolved.
  std::function<std::optional<MacAddress>(const IpAddress&)> next_hop_mac;
  MacAddress interface_mac;  // the node MAC when node.mac is auto
};

// The data plane's view. Every VIP becomes a service, even below `need` (what to do about an
// unhealthy VIP, e.g. withdrawing its route, is vip_health()'s business). Runs validate().
Result<LbConfig> to_lb_config(const DaemonConfig& config, const RuntimeInputs& inputs);

struct VipHealth {
  std::string vip;
  uint32_t up = 0;  // backends up with weight > 0
  uint32_t need = 1;
  bool healthy() const { return up >= need; }
};
std::vector<VipHealth> vip_health(const DaemonConfig& config, const RuntimeInputs& inputs);

// Names as written in the YAML (and back).
const char* to_string(XdpMode mode);
using health::to_string;  // CheckType
const char* to_string(HashMode mode);
uint32_t hash_fields(HashMode mode);

}  // namespace rail::daemon
