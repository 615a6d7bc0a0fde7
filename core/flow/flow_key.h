// FlowKey: the C++ face of `struct rail_flow_key` (abi/rail_abi.h), a client -> VIP flow.
//
// Same bytes as the ABI struct (so a FlowKey can be handed to a BPF map or memcpy'd from one):
// addresses and ports in network byte order, IPv4 in src[0]/dst[0] with the other words zero,
// pad zero. Every constructor zero-fills first, so two keys for the same flow are equal bytewise
// and equality/hashing can work on the raw 40 bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "abi/rail_abi.h"
#include "core/net/address.h"
#include "core/packet/headers.h"  // IP protocol numbers (packet::kIpProto*)
#include "core/result.h"

namespace rail {

struct FlowKey {
  rail_flow_key raw;  // the ABI layout; treat as read-only outside the factories below

  FlowKey() { std::memset(&raw, 0, sizeof(raw)); }

  // From addresses as read off the wire (network byte order), e.g. straight from an IP header.
  static FlowKey from_wire_v4(uint32_t saddr_be, uint32_t daddr_be, uint16_t sport_be,
                              uint16_t dport_be, uint8_t proto);
  // `saddr`/`daddr` point at 16 bytes each, in network order (unaligned is fine).
  static FlowKey from_wire_v6(const uint8_t* saddr, const uint8_t* daddr, uint16_t sport_be,
                              uint16_t dport_be, uint8_t proto);

  // From address values and host-order ports. Precondition: both addresses have the named
  // family (asserted); use make() when the families come from untrusted input.
  static FlowKey make_v4(const IpAddress& src, const IpAddress& dst, uint16_t sport, uint16_t dport,
                         uint8_t proto);
  static FlowKey make_v6(const IpAddress& src, const IpAddress& dst, uint16_t sport, uint16_t dport,
                         uint8_t proto);
  // Either family; an error if src and dst differ in family.
  static Result<FlowKey> make(const IpAddress& src, const IpAddress& dst, uint16_t sport,
                              uint16_t dport, uint8_t proto);

  bool is_v4() const { return raw.family == RAIL_AF_INET; }
  bool is_v6() const { return raw.family == RAIL_AF_INET6; }
  IpAddress src() const;
  IpAddress dst() const;
  uint16_t src_port() const { return RAIL_NTOHS(raw.sport); }  // host order
  uint16_t dst_port() const { return RAIL_NTOHS(raw.dport); }  // host order
  uint8_t proto() const { return raw.proto; }

  // The other direction (VIP -> client): used to turn the flow quoted in an ICMP error back
  // into the client's flow (docs/packet-path.md §5).
  FlowKey reversed() const;
  // Ports zeroed: the (src, dst, proto) 3-tuple that fragments and port-less protocols use.
  FlowKey without_ports() const;

  // "tcp 198.18.0.10:40000 -> 198.18.100.1:80", "udp [2001:db8::1]:53 -> [2001:db8::2]:53";
  // unknown protocols print as "proto-N".
  std::string to_string() const;

  friend bool operator==(const FlowKey& a, const FlowKey& b) {
    return std::memcmp(&a.raw, &b.raw, sizeof(a.raw)) == 0;
  }
};
static_assert(sizeof(FlowKey) == sizeof(rail_flow_key), "FlowKey must be the ABI struct");

// Name of an IP protocol for logs ("tcp", "udp", "icmp", "icmpv6", else "proto-N").
std::string ip_proto_name(uint8_t proto);

// 64-bit mix of up to 40 key bytes, for in-memory hash tables (NOT the Maglev flow hash, which
// is flow_hash() in core/flow/flow_hash.h and must match the eBPF side). Keyed with a secret
// `seed` chosen by the table's owner, so a client that controls source addresses and ports
// cannot precompute bucket collisions (hash flooding). Reads the bytes as five 64-bit words.
inline uint64_t mix_key_words(const void* bytes40, uint64_t seed) {
  uint64_t w[5];
  std::memcpy(w, bytes40, sizeof(w));
  // Multiply-xorshift rounds (the constants are the odd 64-bit golden ratio and the
  // splitmix64/Murmur3 fmix64 finalizer constants); each word passes through a multiply
  // before it meets the next, and the finalizer spreads high bits into the low bits the table
  // masks with.
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;
  uint64_t h = seed ^ 0x2545f4914f6cdd1dull;
  for (uint64_t word : w) {
    h = (h ^ word) * kMul;
    h ^= h >> 32;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// Hasher for FlowKey in hash tables (see mix_key_words for why it carries a seed).
struct FlowKeyHasher {
  uint64_t seed = 0;
  uint64_t operator()(const FlowKey& key) const { return mix_key_words(&key.raw, seed); }
};

}  // namespace rail
