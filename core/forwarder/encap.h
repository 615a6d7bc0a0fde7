// Output frames towards a backend: GRE, IPIP/IP6IP6, GUE and L2 DSR (docs/packet-path.md §6).
//
// Pure functions of (node settings, encapsulation, backend, flow hash, the L2 header of the
// input, the IP packet to carry). The XDP program writes the same bytes; the golden tests
// hold both to it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/forwarder/forwarder_state.h"
#include "core/packet/parser.h"

namespace rail {

// Bytes an encapsulation puts in front of the inner IP packet (outer IP + tunnel header);
// 0 for L2 DSR. `outer_v6` = the backend is IPv6.
uint32_t encap_overhead(Encap encap, bool outer_v6);

struct EncapRequest {
  const NodeSettings* node = nullptr;
  Encap encap = Encap::kGre;
  const BackendSlot* backend = nullptr;
  uint32_t flow_hash = 0;              // IPv6 flow label, GUE source port entropy
  const packet::L2Info* l2 = nullptr;  // Ethernet header of the received frame (tag kept)
  std::span<const uint8_t> inner;      // the IP packet carried (exactly its datagram bytes)
  bool inner_v6 = false;
  uint8_t inner_tos = 0;  // inner TOS / traffic class, copied to the outer header
};

// Writes the whole output frame into `out` (replacing its contents). Preconditions (checked by
// the caller): the backend's family can carry the encapsulation (validated config) and its
// next-hop MAC is known.
void write_encapsulated(const EncapRequest& request, std::vector<uint8_t>& out);

}  // namespace rail
