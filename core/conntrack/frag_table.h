// FragTable: remembers where the first fragment of an IP datagram went, so later fragments
// (which carry no ports) follow it to the same backend (docs/packet-path.md §4).
//
// Keyed by what identifies a datagram being reassembled: (src, dst, protocol, identification),
// RFC 791 §3.2 for IPv4 (16-bit ID), RFC 8200 §4.5 for IPv6 (32-bit ID in the fragment header).
// Default idle timeout 30 s: between RFC 791's suggested 15 s initial reassembly timer and the
// 60 s of RFC 8200 §4.5. The backend reassembles and gives up after its own timer, so an entry
// that outlives it only steers fragments the backend will discard anyway; one that dies early
// sends late fragments by the 3-tuple hash. Each later fragment refreshes the entry (lookup),
// so a slow datagram keeps its entry while fragments keep coming.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/conntrack/conn_table.h"
#include "core/conntrack/lru_table.h"
#include "core/flow/flow_key.h"

namespace rail {

// 40 bytes, zero-filled before use, so equality and hashing work on raw bytes.
struct FragKey {
  uint32_t src[4];  // network byte order; IPv4 in src[0], other words zero
  uint32_t dst[4];  // network byte order
  uint32_t ip_id;   // host order; IPv4's 16-bit identification zero-extended
  uint8_t proto;    // the upper-layer protocol (IPv6: next header after the fragment header)
  uint8_t family;   // enum rail_family
  uint16_t pad;     // zero

  FragKey() { std::memset(this, 0, sizeof(*this)); }

  // The datagram of a fragment whose (src, dst, proto) are those of `flow` (ports ignored).
  // For IPv4 `ip_id` is the 16-bit ID; for IPv6 the 32-bit fragment-header ID (host order).
  static FragKey of(const FlowKey& flow, uint32_t ip_id) {
    FragKey key;
    std::memcpy(key.src, flow.raw.src, sizeof(key.src));
    std::memcpy(key.dst, flow.raw.dst, sizeof(key.dst));
    key.ip_id = flow.is_v4() ? (ip_id & 0xffffu) : ip_id;
    key.proto = flow.raw.proto;
    key.family = flow.raw.family;
    return key;
  }

  friend bool operator==(const FragKey& a, const FragKey& b) {
    return std::memcmp(&a, &b, sizeof(a)) == 0;
  }
};
static_assert(sizeof(FragKey) == 40, "FragKey is hashed as five 64-bit words");

struct FragKeyHasher {
  uint64_t seed = 0;
  uint64_t operator()(const FragKey& key) const { return mix_key_words(&key, seed); }
};

struct FragEntry {
  uint32_t service_index = 0;  // the forwarder's index of the service the first fragment hit
  uint32_t backend_id = 0;     // the backend the first fragment went to

  friend bool operator==(const FragEntry&, const FragEntry&) = default;
};

inline constexpr uint64_t kDefaultFragTimeoutNs = 30 * kNanosPerSecond;

// The fragment table: LruTable API over FragKey -> FragEntry with one idle timeout.
class FragTable : public LruTable<FragKey, FragEntry, FragKeyHasher> {
 public:
  // `hash_seed`: as for ConnTable, a per-node secret against hash flooding.
  explicit FragTable(size_t capacity, uint64_t idle_timeout_ns = kDefaultFragTimeoutNs,
                     uint64_t hash_seed = 0)
      : LruTable(capacity, FixedIdleTimeout(idle_timeout_ns), FragKeyHasher{hash_seed}) {}
};

}  // namespace rail
