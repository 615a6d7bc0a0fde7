// The option values the traffic tools share: the rules of their durations (parsed by
// core/duration.h) and source address lists ("198.18.1.10-198.18.1.59", "198.18.1.0/26",
// "a,b,c"), plus round-robin picking.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>
#include <vector>

#include "core/duration.h"
#include "core/net/address.h"
#include "core/result.h"

namespace rail::traffic {

// Durations on the tools' command lines (--duration, --timeout...): a bare number means seconds,
// longer than 0, at most a year (8760h).
inline constexpr DurationOptions kToolDurations{.allow_zero = false,
                                                .max = std::chrono::hours(24 * 365),
                                                .bare_number_unit = DurationUnit::kSeconds};
// The same with 0 allowed (--reconnect-delay: 0 = at once).
inline constexpr DurationOptions kToolDelays{.allow_zero = true,
                                             .max = std::chrono::hours(24 * 365),
                                             .bare_number_unit = DurationUnit::kSeconds};

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
