// ForwarderState: an immutable snapshot of the balancer config, indexed for per-packet lookups.
//
// Built from an LbConfig (validated first), it answers the questions of docs/packet-path.md:
// is this a VIP address, which service owns (VIP, proto, port), which service takes fragments
// without state, and where backend id N is. Backend ids are stable across rebuilds (the
// BackendIds registry outlives states), so connection-table entries keep meaning the same backend.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/lb_config.h"
#include "core/maglev/maglev_table.h"
#include "core/result.h"

namespace rail {

// Assigns each (service, backend identity) a stable id; a removed backend's id is retired and
// reused only after every other free id (FIFO), so stale connection entries rarely alias.
class BackendIds {
 public:
  explicit BackendIds(uint32_t capacity = RAIL_MAX_BACKENDS) : capacity_(capacity) {}
  // Ids for `config`: existing pairs keep their id, new pairs get one, vanished pairs are freed.
  // Error kOutOfRange when more backends than `capacity` are configured.
  Result<std::vector<std::vector<uint32_t>>> assign(const LbConfig& config);

 private:
  using Key = std::tuple<IpAddress, uint8_t, uint16_t, std::string>;
  uint32_t capacity_;
  uint32_t next_unused_ = 0;
  std::map<Key, uint32_t> ids_;
  std::vector<uint32_t> free_fifo_;
};

struct ServiceState {
  Service config;
  uint32_t service_id = 0;            // index in ForwarderState::services()
  MaglevTable table;                  // entries are indices into config.backends
  std::vector<uint32_t> backend_ids;  // backend_ids[i] = id of config.backends[i]
};

struct BackendSlot {
  IpAddress address;
  MacAddress next_hop_mac;
  BackendState state = BackendState::kDown;
  uint32_t service_id = 0;
};

class ForwarderState {
 public:
  ForwarderState() = default;
  // Validates `config`, builds every Maglev table and indexes services and backends.
  static Result<ForwarderState> build(const LbConfig& config, BackendIds& ids);

  const NodeSettings& node() const { return node_; }
  const std::vector<ServiceState>& services() const { return services_; }

  bool is_vip(const IpAddress& addr) const { return vip_addrs_.count(addr) != 0; }
  bool is_ingress(const IpAddress& addr) const { return ingress_.count(addr) != 0; }
  // Exact port first, then the any-port service; nullptr if neither exists.
  const ServiceState* find_service(const IpAddress& vip, uint8_t proto, uint16_t port) const;
  // docs/packet-path.md §4: the any-port service, else the lowest-port one; nullptr if none.
  const ServiceState* fragment_service(const IpAddress& vip, uint8_t proto) const;
  // nullptr for an unknown id.
  const BackendSlot* backend(uint32_t id) const;

 private:
  NodeSettings node_;
  std::vector<ServiceState> services_;
  std::set<IpAddress> vip_addrs_;
  std::set<IpAddress> ingress_;
  std::map<std::tuple<IpAddress, uint8_t, uint16_t>, uint32_t> by_key_;
  std::unordered_map<uint32_t, BackendSlot> backends_;
};

}  // namespace rail
