// DataPlane: what every Rail data plane (XDP, AF_XDP, the reference forwarder) offers raild.
//
// Small on purpose: apply a whole LbConfig, read the counters of docs/packet-path.md §9.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "abi/rail_abi.h"
#include "core/forwarder/forwarder.h"
#include "core/lb_config.h"
#include "core/result.h"

namespace rail::dataplane {

// Counters summed over CPUs, indexed like the config last applied.
struct DataPlaneStats {
  std::array<uint64_t, RAIL_CNT_MAX> counters{};       // [enum rail_counter]
  std::vector<TrafficCounters> services;               // [index in config.services]
  std::vector<std::vector<TrafficCounters>> backends;  // [service index][backend index]
};

class DataPlane {
 public:
  virtual ~DataPlane() = default;

  // Installs `config` (validated first). On a validation error nothing changes; packets see
  // each service's Maglev table either wholly old or wholly new, never a mix.
  virtual Status apply(const LbConfig& config) = 0;
  virtual Result<DataPlaneStats> stats() const = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace rail::dataplane
