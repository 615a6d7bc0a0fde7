// MaglevTable: the consistent-hashing lookup table of the Maglev paper (Eisenbud et al.,
// "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016, §3.4).
//
// A table of M entries (M prime) maps a flow hash to a backend: lookup(h) = entries[h mod M].
// Population follows the paper's Pseudocode 1 with two documented extensions (docs/maglev.md):
//   - each backend's preference list is permutation[j] = (offset + j * skip) mod M with
//     offset = SipHash-2-4(kMaglevOffsetKey, identity) mod M and
//     skip   = SipHash-2-4(kMaglevSkipKey, identity) mod (M - 1) + 1;
//   - weights: in round r (1-based) a backend places an entry only while
//     placed * max_weight <= weight * r, so its share tends to weight / sum(weights);
//   - backends are visited in byte-wise order of their identity, so the table depends only on
//     the SET of (identity, weight, state), never on the order the caller lists them in, nor
//     on the host or build.
// Invariants of a built table: size() is prime and > the number of eligible backends; every
// entry is an index into the caller's backend list of an eligible backend (weight > 0, not
// kDown), or kNoBackend for every entry when no backend is eligible.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/lb_config.h"
#include "core/maglev/siphash.h"
#include "core/result.h"

namespace rail {

// The two fixed SipHash keys: the ASCII bytes of "Rail maglev offs" and "Rail maglev skip".
// Changing either changes every table in the cluster: they are part of the wire contract.
inline constexpr SipHashKey kMaglevOffsetKey = {'R', 'a', 'i', 'l', ' ', 'm', 'a', 'g',
                                                'l', 'e', 'v', ' ', 'o', 'f', 'f', 's'};
inline constexpr SipHashKey kMaglevSkipKey = {'R', 'a', 'i', 'l', ' ', 'm', 'a', 'g',
                                              'l', 'e', 'v', ' ', 's', 'k', 'i', 'p'};

inline constexpr uint32_t kMaglevDefaultTableSize = 65537;
// Upper bound on M (entries, 4 bytes each): keeps pos + skip < 2^32 and memory sane (256 MiB).
inline constexpr uint32_t kMaglevMaxTableSize = 1u << 26;
// Entry value when no backend is eligible.
inline constexpr uint32_t kNoBackend = UINT32_MAX;

struct MaglevBackend {
  std::string identity;  // stable, non-empty, unique in the list (Backend::identity())
  uint32_t weight = 1;   // relative share; 0 = drained (no entries)
  BackendState state = BackendState::kUp;  // kDrained and kDown get no entries

  bool eligible() const { return weight > 0 && state == BackendState::kUp; }
  static MaglevBackend from(const Backend& backend) {
    return MaglevBackend{backend.identity(), backend.weight, backend.state};
  }
};

// True if n is prime (deterministic trial division; n <= 2^32).
bool is_prime(uint32_t n);

class MaglevTable {
 public:
  // Builds the table for `backends` (indices of this span are what entries hold).
  // Errors: kInvalidArgument for M < 2, M not prime, M > kMaglevMaxTableSize, M not greater
  // than the number of eligible backends, an empty identity; kAlreadyExists for a duplicate
  // identity. Cost: O(M log M) probes on a bitmap plus O(rounds * N); see docs/maglev.md.
  static Result<MaglevTable> build(std::span<const MaglevBackend> backends,
                                   uint32_t table_size = kMaglevDefaultTableSize);

  // Backend index (into the list given to build) for a flow hash, or kNoBackend.
  // entries()[flow_hash mod size()], the remainder computed with two multiplications (Lemire,
  // Kaser, Kurz, "Faster Remainder by Direct Computation", 2019; exact for every 32-bit hash
  // and divisor) instead of a division on the per-packet path.
  uint32_t lookup(uint32_t flow_hash) const {
    const uint64_t fraction = mod_multiplier_ * flow_hash;
    return entries_[static_cast<uint32_t>((static_cast<unsigned __int128>(fraction) * size_) >>
                                          64)];
  }

  uint32_t size() const { return static_cast<uint32_t>(entries_.size()); }
  bool empty_of_backends() const { return eligible_count_ == 0; }
  uint32_t eligible_count() const { return eligible_count_; }
  // entries()[position] = backend index or kNoBackend; size() values.
  const std::vector<uint32_t>& entries() const { return entries_; }
  // entries_per_backend()[i] = number of positions holding backend i (0 if not eligible).
  const std::vector<uint32_t>& entries_per_backend() const { return counts_; }

 private:
  MaglevTable() = default;
  std::vector<uint32_t> entries_;
  std::vector<uint32_t> counts_;
  uint32_t eligible_count_ = 0;
  uint32_t size_ = 0;            // entries_.size()
  uint64_t mod_multiplier_ = 0;  // 2^64 / size_ rounded up, for lookup()
};

// Fraction in [0, 1] of positions whose entry differs between two tables of the same size
// whose indices refer to the same backends (e.g. the same list with states changed, or a list
// extended at the end). Error kInvalidArgument if the sizes differ.
Result<double> fraction_changed(const MaglevTable& before, const MaglevTable& after);

// Same, comparing backend identities, for tables built from different lists.
Result<double> fraction_changed_by_identity(const MaglevTable& before,
                                            std::span<const MaglevBackend> before_backends,
                                            const MaglevTable& after,
                                            std::span<const MaglevBackend> after_backends);

}  // namespace rail
