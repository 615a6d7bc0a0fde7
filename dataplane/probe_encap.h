// ProbeEncapProgram: bpf/probe_encap.bpf.c loaded, its probe targets, tc egress attachments.
//
// raild's via-VIP health checks connect to the VIP with SO_MARK = mark_of(id); on the node's
// egress this program encapsulates such packets in GRE to the backend set for that id (outer
// source, backend address, next-hop and interface MACs), as the balancer would. A marked packet
// without a target is dropped, never sent plain. docs/health-checks.md "Via-VIP checks".
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "abi/rail_probe_encap.h"
#include "core/net/address.h"
#include "core/result.h"
#include "dataplane/tc_attachment.h"

namespace rail::dataplane {

// Where a probe id's packets go. IPv4 outer headers (GRE over IPv4) only.
struct ProbeEncapTarget {
  IpAddress backend;  // outer destination
  IpAddress source;   // outer source (node.outer_source_v4)
  MacAddress next_hop;
  MacAddress interface_mac;
  bool operator==(const ProbeEncapTarget&) const = default;
};

struct ProbeEncapStats {
  std::array<uint64_t, RAIL_PROBE_STAT_MAX> packets{};  // enum rail_probe_stat, summed CPUs
};

// The SO_MARK a probe with id `id` (0..RAIL_PROBE_MAX_TARGETS-1) carries.
constexpr uint32_t probe_mark(uint32_t id) {
  return RAIL_PROBE_MARK | (id & ~RAIL_PROBE_MARK_MASK);
}

class ProbeEncapProgram {
 public:
  static Result<ProbeEncapProgram> load();
  ProbeEncapProgram(ProbeEncapProgram&&) noexcept;
  ProbeEncapProgram& operator=(ProbeEncapProgram&&) noexcept;
  ~ProbeEncapProgram();

  // Errors: kInvalidArgument (not IPv4, id out of range), kSystem (map update).
  Status set_target(uint32_t id, const ProbeEncapTarget& target);
  Status remove_target(uint32_t id);  // absent is fine
  // tc egress of an interface of the calling thread's namespace; detached on destruction.
  Status attach_egress(const std::string& ifname);
  Result<ProbeEncapStats> stats() const;
  int prog_fd() const;

 private:
  struct Owner;
  explicit ProbeEncapProgram(std::unique_ptr<Owner> owner);
  std::unique_ptr<Owner> owner_;  // first: destroyed after the attachments
  std::vector<TcAttachment> tc_;
};

}  // namespace rail::dataplane
