// Parsing of the option values the traffic tools share: durations ("2s", "500ms") and source
// address lists ("198.18.1.10-198.18.1.59", "198.18.1.0/26", "a,b,c"), plus round-robin picking.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>
#include <vector>

#include "core/net/address.h"
#include "core/result.h"

namespace rail::traffic {

// "<number><unit>" with unit ms, s, m or h; a bare number means seconds. The number may have a
// fraction ("1.5s"); the result is rounded to whole milliseconds and must be >= 0.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// The most addresses a --sources value may expand to (keeps a typo like /8 from eating memory).
inline constexpr size_t kMaxSources = 65536;

// A comma-separated list of items, each one address, an inclusive range FIRST-LAST (same family,
// FIRST <= LAST) or a CIDR prefix ADDR/LEN (every address of the prefix, network and broadcast
// included: on lo a whole prefix is local). Order is kept; at most kMaxSources addresses.
// An empty text gives an empty list (= let the kernel choose the source).
Result<std::vector<IpAddress>> parse_sources(std::string_view text);

// Hands out source addresses round-robin; with none, always "no source" (kernel's choice).
class SourcePicker {
 public:
  explicit SourcePicker(std::vector<IpAddress> sources) : sources_(std::move(sources)) {}
  bool empty() const { return sources_.empty(); }
  const IpAddress& next() {  // precondition: !empty()
    const IpAddress& a = sources_[next_];
    next_ = (next_ + 1) % sources_.size();
    return a;
  }

 private:
  std::vector<IpAddress> sources_;
  size_t next_ = 0;
};

}  // namespace rail::traffic
