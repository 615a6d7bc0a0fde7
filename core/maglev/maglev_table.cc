// MaglevTable population (Maglev paper §3.4, Pseudocode 1) with weights and order independence.
#include "core/maglev/maglev_table.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace rail {
namespace {

// Per eligible backend state during population. The permutation is generated on the fly:
// `next_position` is permutation[next] of the paper, advanced by `skip` modulo M with one
// compare-and-subtract instead of a division.
struct Filler {
  uint32_t index;          // into the caller's list
  uint32_t weight;         // > 0
  uint32_t next_position;  // starts at offset
  uint32_t skip;           // in [1, M-1]
  uint64_t placed;         // entries placed so far
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
    fillers.push_back(Filler{index, backend.weight, offset, skip, 0});
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

  // Occupancy as a bitmap: M/8 bytes stay in L1/L2 while the probes jump around the table.
  std::vector<uint64_t> occupied((table_size + 63) / 64, 0);
  uint32_t* const entries = table.entries_.data();
  uint32_t filled = 0;
  for (uint64_t round = 1; filled < table_size; ++round) {
    for (Filler& f : fillers) {
      // Weighted round: place only while placed / weight <= round / max_weight.
      if (f.placed * max_weight > static_cast<uint64_t>(f.weight) * round) continue;
      uint32_t pos = f.next_position;
      while (occupied[pos >> 6] & (uint64_t{1} << (pos & 63))) {
        pos += f.skip;
        if (pos >= table_size) pos -= table_size;
      }
      occupied[pos >> 6] |= uint64_t{1} << (pos & 63);
      entries[pos] = f.index;
      ++f.placed;
      pos += f.skip;
      if (pos >= table_size) pos -= table_size;
      f.next_position = pos;
      if (++filled == table_size) break;
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
