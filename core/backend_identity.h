// Duplicate Maglev identities in a backend list, found without building every identity string.
//
// A backend's identity is its name, else its address text (Backend::identity()); two backends
// with one identity would take the same permutation, so the config check and
// LbConfig::validate() refuse them. Building 1000 address strings and an ordered set of them
// was a visible part of every API change on a 1000-backend pool (docs/raild.md, "API ->
// forwarding latency"): addresses are compared as addresses here, and a name only as text,
// except a name that IS canonical address text, which is also compared with the addresses.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/net/address.h"

namespace rail {

struct IpAddressHash {
  size_t operator()(const IpAddress& a) const {
    const std::string_view bytes(reinterpret_cast<const char*>(a.data()), a.size());
    return std::hash<std::string_view>{}(bytes) ^ size_t(a.family());
  }
};

// One duplicate: backends[later] has the identity backends[first] has (first < later, and
// `first` is the lowest index with that identity).
struct DuplicateIdentity {
  size_t first;
  size_t later;
};

// Every later backend whose identity an earlier one already has, in index order; the same
// answer as inserting each backend's identity() into a set in order. `skip(i)` leaves backend
// i out (e.g. one already reported for a duplicate address). B has `name` (std::string) and
// `address` (IpAddress).
template <typename B, typename Skip>
std::vector<DuplicateIdentity> duplicate_identities(const std::vector<B>& backends, Skip skip) {
  std::unordered_map<IpAddress, size_t, IpAddressHash> by_address;  // identity = address text
  std::unordered_map<std::string_view, size_t> by_name;             // identity = a name
  by_address.reserve(backends.size());
  std::vector<DuplicateIdentity> out;
  for (size_t i = 0; i < backends.size(); ++i) {
    if (skip(i)) continue;
    const B& b = backends[i];
    // A name spelled as canonical address text is the same identity as a nameless backend at
    // that address, so it is keyed by the address; any other name only equals itself.
    std::optional<IpAddress> key;
    if (b.name.empty()) {
      key = b.address;
    } else if (auto a = IpAddress::parse(b.name); a && a->to_string() == b.name) {
      key = *a;
    }
    if (key) {
      if (auto [it, fresh] = by_address.emplace(*key, i); !fresh) out.push_back({it->second, i});
    } else if (auto [it, fresh] = by_name.emplace(b.name, i); !fresh) {
      out.push_back({it->second, i});
    }
  }
  return out;
}

template <typename B>
std::vector<DuplicateIdentity> duplicate_identities(const std::vector<B>& backends) {
  return duplicate_identities(backends, [](size_t) { return false; });
}

}  // namespace rail
