// Forwarder: the reference data plane. One frame + the current state -> a verdict (+ bytes).
//
// This is the executable form of docs/packet-path.md: plain C++, no OS calls (time is passed
// in), no exceptions, no allocation per packet once `out` has grown. The XDP and AF_XDP data
// planes must give the same verdict and the same bytes for every frame; the golden cases in
// tests/golden/ hold them to it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "abi/rail_abi.h"
#include "core/conntrack/conn_table.h"
#include "core/conntrack/frag_table.h"
#include "core/forwarder/forwarder_state.h"
#include "core/lb_config.h"
#include "core/result.h"

namespace rail {

inline constexpr uint32_t kNoId = UINT32_MAX;

struct Verdict {
  rail_verdict action = RAIL_VERDICT_PASS;
  rail_drop_reason reason = RAIL_DROP_NONE;  // set when action == DROP
  uint32_t service_id = kNoId;               // the service that took the packet, if any
  uint32_t backend_id = kNoId;               // the backend it was sent to, if any
  bool new_flow = false;                     // a connection-table entry was written
};

struct TrafficCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;  // frame bytes as received
  uint64_t new_flows = 0;
};

struct ForwarderOptions {
  size_t conn_capacity = 1 << 16;
  size_t frag_capacity = 1 << 12;
  ConnTimeouts conn_timeouts;
  uint64_t frag_timeout_ns = kDefaultFragTimeoutNs;
};

class Forwarder {
 public:
  explicit Forwarder(ForwarderOptions options = {});

  // Validates and installs a new config; on error nothing changes (the old config keeps
  // serving). Connection-table entries survive: their backend ids are stable.
  Status apply(const LbConfig& config);

  // Processes one received frame at time `now_ns`. For TX, `out` holds the frame to send.
  Verdict process(std::span<const uint8_t> frame, uint64_t now_ns, std::vector<uint8_t>& out);

  const ForwarderState& state() const { return *state_; }
  // counters()[enum rail_counter] as in the eBPF data plane.
  const std::array<uint64_t, RAIL_CNT_MAX>& counters() const { return counters_; }
  const std::unordered_map<uint32_t, TrafficCounters>& service_counters() const {
    return service_traffic_;
  }
  const std::unordered_map<uint32_t, TrafficCounters>& backend_counters() const {
    return backend_traffic_;
  }
  const ConnTable& conn_table() const { return conns_; }
  const FragTable& frag_table() const { return frags_; }

 private:
  struct Packet;  // per-call scratch (forwarder.cc)

  Verdict classify(Packet& p, std::vector<uint8_t>& out);
  Verdict balance(Packet& p, std::vector<uint8_t>& out);
  Verdict steer_icmp_error(Packet& p, std::vector<uint8_t>& out);
  Verdict send_to_backend(Packet& p, const ServiceState& service, uint32_t backend_id,
                          uint32_t flow_hash, std::vector<uint8_t>& out);
  uint32_t pick_backend(const ServiceState& service, uint32_t flow_hash) const;
  bool usable(uint32_t backend_id, const ServiceState& service, bool allow_drained) const;
  Verdict count(const Verdict& v, size_t frame_bytes);

  BackendIds ids_;
  std::unique_ptr<ForwarderState> state_;
  ConnTable conns_;
  FragTable frags_;
  std::array<uint64_t, RAIL_CNT_MAX> counters_{};
  std::unordered_map<uint32_t, TrafficCounters> service_traffic_;
  std::unordered_map<uint32_t, TrafficCounters> backend_traffic_;
};

}  // namespace rail
