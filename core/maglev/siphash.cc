// SipHash-2-4 implementation, written from the description in the SipHash paper (§2).
#include "core/maglev/siphash.h"

#include <bit>

namespace rail {
namespace {

// Little-endian load of n <= 8 bytes, independent of host byte order.
uint64_t load_le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

struct SipState {
  uint64_t v0, v1, v2, v3;

  // One SipRound (paper, Fig. 2): add-rotate-xor network over the four state words.
  void round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }

  // c = 2 compression rounds per message word.
  void compress(uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

}  // namespace

uint64_t siphash24(const SipHashKey& key, std::span<const uint8_t> message) {
  const uint64_t k0 = load_le(key.data(), 8);
  const uint64_t k1 = load_le(key.data() + 8, 8);
  // Initialisation constants: "somepseudorandomlygeneratedbytes" in ASCII.
  SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
             k1 ^ 0x7465646279746573ULL};

  const size_t len = message.size();
  const uint8_t* p = message.data();
  const size_t full_words = len / 8;
  for (size_t i = 0; i < full_words; ++i) s.compress(load_le(p + 8 * i, 8));

  // Last word: remaining 0..7 bytes, with (len mod 256) in the top byte.
  const uint64_t last = load_le(p + 8 * full_words, len % 8) | (static_cast<uint64_t>(len) << 56);
  s.compress(last);

  // Finalisation: d = 4 rounds.
  s.v2 ^= 0xff;
  s.round();
  s.round();
  s.round();
  s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash24(const SipHashKey& key, std::string_view text) {
  return siphash24(
      key, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace rail
