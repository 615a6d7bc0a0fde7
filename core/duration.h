// Durations as people write them ("500ms", "2s", "1.5m", "1h"): Rail's one parser and formatter.
//
// Pure C++ (no OS calls). Every caller (raild's config file, the traffic tools, rail-decap) uses
// the same grammar and says, with DurationOptions, what it allows beyond it: zero, a bare number,
// the longest value. Errors quote the text and say what would be accepted.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.h"

namespace rail {

enum class DurationUnit { kNone, kMilliseconds, kSeconds, kMinutes, kHours };

struct DurationOptions {
  // 0 is accepted ("0s", "0ms", and a bare "0" even when bare numbers are refused: zero is zero
  // in every unit). Otherwise the value must be longer than 0.
  bool allow_zero = false;
  // The longest value accepted (inclusive).
  std::chrono::milliseconds max = std::chrono::hours(24);
  // The unit of a number written without one; kNone refuses bare numbers ("2 needs a unit").
  DurationUnit bare_number_unit = DurationUnit::kNone;
};

// Grammar: DIGITS [ "." DIGITS ] UNIT, UNIT one of ms, s, m, h (no sign, no spaces, no
// exponent); UNIT may be left out only as DurationOptions allows. The value must be a whole
// number of milliseconds ("1.5s" yes, "1.5ms" no). Errors: kInvalidArgument for text that is
// not a duration or lacks/misspells the unit, kOutOfRange for 0 or more than `max`.
Result<std::chrono::milliseconds> parse_duration(std::string_view text,
                                                 const DurationOptions& options);

// The shortest exact form parse_duration reads back: "1500ms", "2s", "90m", "1h"; 0 is "0".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace rail
