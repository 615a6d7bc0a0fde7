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
  uint32_t inverse_skip;   // skip^-1 mod M, computed on first use in the endgame; 0 = not yet
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

// x mod m for x < 2^52, m < 2^26, via a double-precision quotient estimate (exact inputs;
// the estimate is off by at most one, fixed by the two corrections). Avoids a 64-bit divide.
inline uint32_t reduce(uint64_t x, uint32_t m, double inverse_m) {
  int64_t r = static_cast<int64_t>(x) -
              static_cast<int64_t>(static_cast<double>(x) * inverse_m) * static_cast<int64_t>(m);
  if (r < 0) r += m;
  if (r >= static_cast<int64_t>(m)) r -= m;
  return static_cast<uint32_t>(r);
}

// Endgame of population. The walk's expected cost per placement is M / free, so about half of
// all ~M ln M probes happen while the last sqrt(M) entries are filled. Once at most sqrt(M)
// positions are free we instead pick directly: every permutation element before a backend's
// `next_position` is occupied (occupancy only grows), so the walk would stop at the free
// position q with the smallest permutation index j(q) = (q - offset) * skip^-1 mod M. That is
// the same choice as the walk, found in O(free) multiplications without branches.
class Endgame {
 public:
  Endgame(const std::vector<uint8_t>& occupied, uint32_t m) : m_(m), inverse_m_(1.0 / m) {
    for (uint32_t pos = 0; pos < m; ++pos) {
      if (!occupied[pos]) free_.push_back(pos);
    }
  }

  uint32_t take(Filler& f) {
    if (f.inverse_skip == 0) f.inverse_skip = inverse_mod(f.skip, m_);
    uint32_t best_index = UINT32_MAX;
    size_t best = 0;
    for (size_t k = 0; k < free_.size(); ++k) {
      const uint32_t q = free_[k];
      const uint32_t distance = q >= f.offset ? q - f.offset : q + m_ - f.offset;
      const uint32_t index =
          reduce(static_cast<uint64_t>(distance) * f.inverse_skip, m_, inverse_m_);
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
  double inverse_m_;
  std::vector<uint32_t> free_;
};

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
  std::vector<uint32_t> order(backends.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return backends[a].identity < backends[b].identity; });
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

  std::vector<Filler> fillers;
  fillers.reserve(backends.size());
  uint32_t max_weight = 0;
  for (uint32_t index : order) {
    const MaglevBackend& backend = backends[index];
    if (!backend.eligible()) continue;
    const uint32_t offset =
        static_cast<uint32_t>(siphash24(kMaglevOffsetKey, backend.identity) % table_size);
    const uint32_t skip =
        static_cast<uint32_t>(siphash24(kMaglevSkipKey, backend.identity) % (table_size - 1)) + 1;
    fillers.push_back(Filler{index, backend.weight, offset, skip, offset, 0, 0});
    max_weight = std::max(max_weight, backend.weight);
  }
  if (fillers.size() >= table_size) {
    return make_error(ErrorCode::kInvalidArgument,
                      "Maglev table size " + std::to_string(table_size) +
                          " must exceed the number of eligible backends (" +
                          std::to_string(fillers.size()) + ")");
  }

  MaglevTable table;
  table.entries_.assign(table_size, kNoBackend);
  table.counts_.assign(backends.size(), 0);
  table.eligible_count_ = static_cast<uint32_t>(fillers.size());
  if (fillers.empty()) return table;

  // Occupancy as one byte per position (M bytes stay in L2 even for M = 655373; measured
  // faster than a bitmap, whose extra shift sits on the probe's dependency chain).
  std::vector<uint8_t> occupied(table_size, 0);
  uint32_t* const entries = table.entries_.data();
  const uint32_t endgame_free = static_cast<uint32_t>(std::sqrt(static_cast<double>(table_size)));
  std::optional<Endgame> endgame;
  uint32_t filled = 0;
  for (uint64_t round = 1; filled < table_size; ++round) {
    for (Filler& f : fillers) {
      // Weighted round: place only while placed / weight <= round / max_weight.
      if (f.placed * max_weight > static_cast<uint64_t>(f.weight) * round) continue;
      uint32_t pos;
      if (endgame) {
        pos = endgame->take(f);
      } else {
        pos = f.next_position;
        while (occupied[pos]) pos = add_mod(pos, f.skip, table_size);
        f.next_position = add_mod(pos, f.skip, table_size);
      }
      occupied[pos] = 1;
      entries[pos] = f.index;
      ++f.placed;
      if (++filled == table_size) break;
      if (!endgame && table_size - filled <= endgame_free) endgame.emplace(occupied, table_size);
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
