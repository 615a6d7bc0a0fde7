// ConnTable: the per-node connection table, client flow -> backend (docs/packet-path.md §3).
//
// An LruTable keyed by FlowKey with idle timeouts chosen by protocol. The timeout belongs to the
// key (its protocol), so the policy is a small value held by the table rather than a field per
// entry. Defaults: TCP 300 s, as established TCP flows may sit idle for minutes between
// keepalives (well under the 2 h 4 min of RFC 5382 REQ-5 for NATs, which must hold state much
// longer because losing it breaks the connection; here a lost entry only matters if the backend
// set changed meanwhile, since Maglev picks the same backend again otherwise); UDP 30 s (the
// order of RFC 4787 REQ-5's 2 min minimum for NAT UDP mappings would keep too many one-packet
// DNS flows; Maglev keeps most UDP flows on their backend without the table anyway); other
// protocols 30 s.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/conntrack/lru_table.h"
#include "core/flow/flow_key.h"

namespace rail {

inline constexpr uint64_t kNanosPerSecond = 1'000'000'000ull;

struct ConnEntry {
  uint32_t backend_id = 0;  // the forwarder's backend identifier for this flow

  friend bool operator==(const ConnEntry&, const ConnEntry&) = default;
};

// Idle timeouts (ns) of connection-table entries, by the flow's IP protocol.
struct ConnTimeouts {
  uint64_t tcp_ns = 300 * kNanosPerSecond;
  uint64_t udp_ns = 30 * kNanosPerSecond;
  uint64_t other_ns = 30 * kNanosPerSecond;

  uint64_t operator()(const FlowKey& key) const {
    switch (key.proto()) {
      case packet::kIpProtoTcp:
        return tcp_ns;
      case packet::kIpProtoUdp:
        return udp_ns;
      default:
        return other_ns;
    }
  }
};

// The connection table: the whole LruTable API (lookup refreshes, peek does not, upsert,
// erase, expire_idle, for_each, stats) over FlowKey -> ConnEntry.
class ConnTable : public LruTable<FlowKey, ConnEntry, FlowKeyHasher, ConnTimeouts> {
 public:
  // `hash_seed` keys the in-memory bucket hash (see FlowKeyHasher); give each node a random
  // one so clients cannot aim collisions at it. It has nothing to do with the Maglev seed.
  explicit ConnTable(size_t capacity, ConnTimeouts timeouts = ConnTimeouts(),
                     uint64_t hash_seed = 0)
      : LruTable(capacity, timeouts, FlowKeyHasher{hash_seed}) {}
};

}  // namespace rail
