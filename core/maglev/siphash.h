// SipHash-2-4: a keyed 64-bit PRF (Aumasson & Bernstein, "SipHash: a fast short-input PRF",
// INDOCRYPT 2012). Rail uses it to derive Maglev offsets/skips from backend identities.
//
// Output is defined independent of host endianness: the 128-bit key is read as two
// little-endian 64-bit words k0 = key[0..7], k1 = key[8..15], message words likewise, exactly
// as in the paper, so the same bytes give the same value on every host and build.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace rail {

// A 128-bit SipHash key as 16 bytes (paper's byte order).
using SipHashKey = std::array<uint8_t, 16>;

// SipHash-2-4 of `message` under `key`, 64-bit output (the paper's little-endian tag read as a
// uint64_t). Pure function, no allocation; any length including 0.
uint64_t siphash24(const SipHashKey& key, std::span<const uint8_t> message);

// Convenience for text identities: hashes the bytes of `text` (no terminator).
uint64_t siphash24(const SipHashKey& key, std::string_view text);

}  // namespace rail
