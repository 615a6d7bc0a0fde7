// MaglevTable population (Maglev paper §3.4, Pseudocode 1) with weights and order independence.
#include "core/maglev/maglev_table.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <unordered_map>
#include <utility>

namespace rail {
namespace {

// Per eligible backend state during population. The permutation is generated on the fly:
// `next_position` is permutation[next] of the paper, advanced by `skip` modulo M with one
// compare-and-subtract instead of a division.
struct Filler {
  uint32_t index;          // into the caller's list
  uint32_t weight;         // > 0
  uint32_t offset;         // permutation[0]
  uint32_t skip;           // in [1, M-1]
  uint32_t next_position;  // starts at offset
  uint32_t skip2;          // 2 * skip mod M  (the 4-wide probe of the middle phase)
  uint32_t skip3;          // 3 * skip mod M
  uint32_t skip4;          // 4 * skip mod M
  uint32_t inverse_skip;   // skip^-1 mod M, computed on first use in the endgame; 0 = not yet
  uint32_t inverse_shoup;  // its Shoup quotient (MulMod)
  uint64_t placed;         // entries placed so far
};

// (a + b) mod m for a, b < m < 2^31: one compare-and-subtract, no division.
inline uint32_t add_mod(uint32_t a, uint32_t b, uint32_t m) {
  const uint32_t sum = a + b;
  return sum >= m ? sum - m : sum;
}

// a^-1 mod m for prime m and 0 < a < m (extended Euclid).
uint32_t inverse_mod(uint32_t a, uint32_t m) {
  int64_t t = 0, new_t = 1, r = m, new_r = a;
  while (new_r != 0) {
    const int64_t q = r / new_r;
    t = std::exchange(new_t, t - q * new_t);
    r = std::exchange(new_r, r - q * new_r);
  }
  return static_cast<uint32_t>(t < 0 ? t + m : t);
}

// Multiplication by a fixed w modulo m (m < 2^31) with Shoup's precomputed quotient
// w' = floor(w * 2^32 / m): the estimate floor(a * w' / 2^32) is the true quotient or one less,
// so a * w - estimate * m (exact in 32-bit wrapping arithmetic, as it is < 2m < 2^32) needs one
// conditional subtraction. Integer-only: no 64-bit divide, no int/double conversions.
struct MulMod {
  uint32_t w;
  uint32_t w_shoup;
  uint32_t m;
  static uint32_t shoup(uint32_t w, uint32_t m) {
    return static_cast<uint32_t>((uint64_t{w} << 32) / m);
  }
  uint32_t operator()(uint32_t a) const {
    const uint32_t estimate = static_cast<uint32_t>((uint64_t{a} * w_shoup) >> 32);
    const uint32_t r = a * w - estimate * m;
    return r >= m ? r - m : r;
  }
};

// Endgame of population. The walk's expected cost per placement is M / free, so about half of
// all ~M ln M probes happen while the last sqrt(M) entries are filled. Once at most sqrt(M)
// positions are free we instead pick directly: every permutation element before a backend's
// `next_position` is occupied (occupancy only grows), so the walk would stop at the free
// position q with the smallest permutation index j(q) = (q - offset) * skip^-1 mod M. That is
// the same choice as the walk, found in O(free) multiplications without branches.
class Endgame {
 public:
  Endgame(const uint8_t* occupied, uint32_t m) : m_(m) {
    for (uint32_t pos = 0; pos < m; ++pos) {
      if (!occupied[pos]) free_.push_back(pos);
    }
  }

  uint32_t take(Filler& f) {
    if (f.inverse_skip == 0) {
      f.inverse_skip = inverse_mod(f.skip, m_);
      f.inverse_shoup = MulMod::shoup(f.inverse_skip, m_);
    }
    const MulMod index_of{f.inverse_skip, f.inverse_shoup, m_};
    // (q - offset) mod M as q + (M - offset), minus M when that wraps past M - 1.
    const uint32_t shift = m_ - f.offset;
    uint32_t best_index = UINT32_MAX;
    size_t best = 0;
    for (size_t k = 0; k < free_.size(); ++k) {
      const uint32_t index = index_of(add_mod(free_[k], shift, m_));
      if (index < best_index) {
        best_index = index;
        best = k;
      }
    }
    const uint32_t pos = free_[best];
    free_[best] = free_.back();  // the free list is a set: its order does not matter
    free_.pop_back();
    return pos;
  }

 private:
  uint32_t m_;
  std::vector<uint32_t> free_;
};

// The order backends are visited in: by identity, compared as std::string does (bytes as
// unsigned char). Sorting 1000 strings with a shared prefix ("backend-17") by std::string
// compare costs ~0.1 ms, a tenth of a build, so sort integer keys instead: the 8 bytes after
// the prefix common to ALL identities, big-endian and zero-padded, order any two identities
// whose keys differ exactly as the strings do (a string ending inside the window pads with 0,
// which is <= any byte the longer one has there). Equal keys fall back to the string compare.
std::vector<uint32_t> identity_order(std::span<const MaglevBackend> backends) {
  const size_t n = backends.size();
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  if (n < 2) return order;
  const std::string_view first = backends[0].identity;
  size_t common = first.size();
  for (const MaglevBackend& backend : backends) {
    const std::string_view id = backend.identity;
    const size_t limit = std::min(common, id.size());
    size_t i = 0;
    while (i < limit && id[i] == first[i]) ++i;
    common = i;
  }
  struct Keyed {
    uint64_t key;
    uint32_t index;
  };
  std::vector<Keyed> keyed(n);
  for (uint32_t i = 0; i < n; ++i) {
    const std::string_view id = backends[i].identity;
    uint64_t key = 0;
    for (size_t b = 0; b < 8; ++b) {
      const size_t at = common + b;
      key = key << 8 | (at < id.size() ? static_cast<uint8_t>(id[at]) : 0u);
    }
    keyed[i] = Keyed{key, i};
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const Keyed& a, const Keyed& b) { return a.key < b.key; });
  for (size_t i = 0; i < n; ++i) order[i] = keyed[i].index;
  // Runs of equal keys (rare beyond the window): order them by the full identity.
  for (size_t begin = 0; begin < n;) {
    size_t end = begin + 1;
    while (end < n && keyed[end].key == keyed[begin].key) ++end;
    if (end - begin > 1) {
      std::sort(order.begin() + begin, order.begin() + end, [&](uint32_t a, uint32_t b) {
        return backends[a].identity < backends[b].identity;
      });
    }
    begin = end;
  }
  return order;
}

Status check_table_size(uint32_t table_size) {
  if (table_size < 2) {
    return make_error(ErrorCode::kInvalidArgument,
                      "Maglev table size " + std::to_string(table_size) +
                          " is too small: it must be a prime >= 2 (default 65537)");
  }
  if (table_size > kMaglevMaxTableSize) {
    return make_error(ErrorCode::kInvalidArgument,
                      "Maglev table size " + std::to_string(table_size) + " exceeds the maximum " +
                          std::to_string(kMaglevMaxTableSize));
  }
  if (!is_prime(table_size)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "Maglev table size " + std::to_string(table_size) +
                          " is not prime (every skip must be coprime with it; try 65537)");
  }
  return ok();
}

}  // namespace

bool is_prime(uint32_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint64_t d = 3; d * d <= n; d += 2) {
    if (n % d == 0) return false;
  }
  return true;
}

Result<MaglevTable> MaglevTable::build(std::span<const MaglevBackend> backends,
                                       uint32_t table_size) {
  RAIL_TRY(check_table_size(table_size));

  // Visit backends in identity order (std::string compares bytes as unsigned char), so the
  // result does not depend on the caller's order; adjacent equal identities are duplicates.
  const std::vector<uint32_t> order = identity_order(backends);
  for (size_t i = 0; i < order.size(); ++i) {
    const std::string& identity = backends[order[i]].identity;
    if (identity.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "Maglev backend #" + std::to_string(order[i]) + " has an empty identity");
    }
    if (i > 0 && identity == backends[order[i - 1]].identity) {
      return make_error(ErrorCode::kAlreadyExists,
                        "duplicate Maglev backend identity '" + identity + "'");
    }
  }

  const uint32_t m = table_size;
  std::vector<Filler> fillers;
  fillers.reserve(backends.size());
  uint32_t max_weight = 0;
  for (uint32_t index : order) {
    const MaglevBackend& backend = backends[index];
    if (!backend.eligible()) continue;
    const uint32_t offset =
        static_cast<uint32_t>(siphash24(kMaglevOffsetKey, backend.identity) % m);
    const uint32_t skip =
        static_cast<uint32_t>(siphash24(kMaglevSkipKey, backend.identity) % (m - 1)) + 1;
    const uint32_t skip2 = add_mod(skip, skip, m);
    const uint32_t skip3 = add_mod(skip2, skip, m);
    const uint32_t skip4 = add_mod(skip3, skip, m);
    fillers.push_back(
        Filler{index, backend.weight, offset, skip, offset, skip2, skip3, skip4, 0, 0, 0});
    max_weight = std::max(max_weight, backend.weight);
  }
  if (fillers.size() >= m) {
    return make_error(ErrorCode::kInvalidArgument,
                      "Maglev table size " + std::to_string(m) +
                          " must exceed the number of eligible backends (" +
                          std::to_string(fillers.size()) + ")");
  }

  MaglevTable table;
  table.entries_.assign(m, kNoBackend);
  table.counts_.assign(backends.size(), 0);
  table.eligible_count_ = static_cast<uint32_t>(fillers.size());
  if (fillers.empty()) return table;

  // Occupancy as one byte per position (M bytes stay in L2 even for M = 655373; measured
  // faster than a bitmap, whose extra shift sits on the probe's dependency chain).
  std::vector<uint8_t> occupied(m, 0);
  uint8_t* const occ = occupied.data();
  uint32_t* const entries = table.entries_.data();
  // Phases by the number of free positions (measured, docs/maglev.md):
  //  - more than M/2 free: the first probe is usually free, so a plain walk whose loop branch
  //    predicts well is fastest;
  //  - M/4 < free <= M/2: about every other probe is occupied and the plain walk's exit branch
  //    mispredicts once per placement; probe 4 permutation elements at a time and pick the
  //    first free one without a branch (~35% faster in that phase);
  //  - fewer free: the walk again (4-wide loses: its exit branch is as unpredictable and it
  //    does more work);
  //  - at most sqrt(M) (and at least 4) free: the endgame's direct pick.
  const uint32_t wide_below = m / 2;
  const uint32_t narrow_below = m / 4;
  const uint32_t endgame_free =
      std::max<uint32_t>(4, static_cast<uint32_t>(std::sqrt(static_cast<double>(m))));
  std::optional<Endgame> endgame;
  uint32_t free_count = m;
  for (uint64_t round = 1; free_count > 0; ++round) {
    const bool wide = free_count <= wide_below && free_count > narrow_below;
    for (Filler& f : fillers) {
      // Weighted round: place only while placed / weight <= round / max_weight.
      if (f.placed * max_weight > static_cast<uint64_t>(f.weight) * round) continue;
      uint32_t pos = f.next_position;
      if (endgame) {
        pos = endgame->take(f);
      } else if (wide) {
        for (;;) {
          const uint32_t p1 = add_mod(pos, f.skip, m);
          const uint32_t p2 = add_mod(pos, f.skip2, m);
          const uint32_t p3 = add_mod(pos, f.skip3, m);
          // Byte k of `taken` is occupancy of pos + k * skip; the lowest clear byte wins.
          const uint32_t taken = uint32_t{occ[pos]} | uint32_t{occ[p1]} << 8 |
                                 uint32_t{occ[p2]} << 16 | uint32_t{occ[p3]} << 24;
          const uint32_t free_bytes = ~taken & 0x01010101u;
          if (free_bytes != 0) {
            const uint32_t steps[4] = {0, f.skip, f.skip2, f.skip3};
            pos = add_mod(pos, steps[__builtin_ctz(free_bytes) >> 3], m);
            break;
          }
          pos = add_mod(pos, f.skip4, m);
        }
        f.next_position = add_mod(pos, f.skip, m);
      } else {
        while (occ[pos]) pos = add_mod(pos, f.skip, m);
        f.next_position = add_mod(pos, f.skip, m);
      }
      occ[pos] = 1;
      entries[pos] = f.index;
      ++f.placed;
      if (--free_count == 0) break;
      if (!endgame && free_count <= endgame_free) endgame.emplace(occ, m);
    }
  }
  for (const Filler& f : fillers) table.counts_[f.index] = static_cast<uint32_t>(f.placed);
  return table;
}

Result<double> fraction_changed(const MaglevTable& before, const MaglevTable& after) {
  if (before.size() != after.size()) {
    return make_error(ErrorCode::kInvalidArgument, "cannot compare Maglev tables of sizes " +
                                                       std::to_string(before.size()) + " and " +
                                                       std::to_string(after.size()));
  }
  const std::vector<uint32_t>& a = before.entries();
  const std::vector<uint32_t>& b = after.entries();
  size_t changed = 0;
  for (size_t i = 0; i < a.size(); ++i) changed += a[i] != b[i];
  return static_cast<double>(changed) / static_cast<double>(a.size());
}

Result<double> fraction_changed_by_identity(const MaglevTable& before,
                                            std::span<const MaglevBackend> before_backends,
                                            const MaglevTable& after,
                                            std::span<const MaglevBackend> after_backends) {
  if (before.size() != after.size()) {
    return make_error(ErrorCode::kInvalidArgument, "cannot compare Maglev tables of sizes " +
                                                       std::to_string(before.size()) + " and " +
                                                       std::to_string(after.size()));
  }
  // Translate `before` indices into `after` indices once, then compare integers.
  std::unordered_map<std::string_view, uint32_t> after_index;
  for (uint32_t i = 0; i < after_backends.size(); ++i) {
    after_index.emplace(after_backends[i].identity, i);
  }
  std::vector<uint32_t> translate(before_backends.size(), kNoBackend - 1);  // "gone"
  for (uint32_t i = 0; i < before_backends.size(); ++i) {
    auto it = after_index.find(before_backends[i].identity);
    if (it != after_index.end()) translate[i] = it->second;
  }
  size_t changed = 0;
  for (uint32_t pos = 0; pos < before.size(); ++pos) {
    const uint32_t old_entry = before.entries()[pos];
    const uint32_t mapped = old_entry == kNoBackend        ? kNoBackend
                            : old_entry < translate.size() ? translate[old_entry]
                                                           : kNoBackend - 1;
    changed += mapped != after.entries()[pos];
  }
  return static_cast<double>(changed) / static_cast<double>(before.size());
}

}  // namespace rail
