// Flow hashing for Maglev: C++ entry points over THE flow hash of abi/rail_hash.h.
//
// The hash itself (lookup3 hashword over the 5-tuple words, seed ^ protocol as initval) is
// defined once in the C header shared with eBPF; this file only dispatches on the key's family
// so C++ callers cannot pick the wrong variant. Specification and test vectors:
// docs/flow-hash.md, tests/golden/flow_hash_vectors.h.
#pragma once

#include <cstdint>

#include "abi/rail_hash.h"
#include "core/flow/flow_key.h"

namespace rail {

// Field masks (enum rail_hash_field) under C++ names.
inline constexpr uint32_t kHash5Tuple = RAIL_HASH_5TUPLE;
inline constexpr uint32_t kHash3Tuple = RAIL_HASH_3TUPLE;
inline constexpr uint32_t kHashSrcAffinity = RAIL_HASH_SRC_AFFINITY;
inline constexpr uint32_t kDefaultHashSeed = RAIL_DEFAULT_HASH_SEED;

// The flow hash of `key` over the fields in `fields` (mask of rail_hash_field), cluster `seed`.
// Same value as rail_flow_hash_v4/_v6 on the same packet in any data plane.
inline uint32_t flow_hash(const FlowKey& key, uint32_t fields, uint32_t seed) {
  const rail_flow_key& k = key.raw;
  if (k.family == RAIL_AF_INET6)
    return rail_flow_hash_v6(k.src, k.dst, k.sport, k.dport, k.proto, fields, seed);
  return rail_flow_hash_v4(k.src[0], k.dst[0], k.sport, k.dport, k.proto, fields, seed);
}

// The 3-tuple (src, dst, protocol) hash: later fragments (no L4 header) and the fragment-table
// miss path (docs/packet-path.md §4). Ignores the key's ports whatever they hold.
inline uint32_t flow_hash_3tuple(const FlowKey& key, uint32_t seed) {
  return flow_hash(key, kHash3Tuple, seed);
}

// The default 5-tuple hash.
inline uint32_t flow_hash_5tuple(const FlowKey& key, uint32_t seed) {
  return flow_hash(key, kHash5Tuple, seed);
}

}  // namespace rail
