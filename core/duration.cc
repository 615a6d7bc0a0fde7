// Duration text <-> milliseconds with exact (integer) arithmetic; see core/duration.h.
#include "core/duration.h"

#include <cstdint>

namespace rail {
namespace {

using U128 = unsigned __int128;

constexpr size_t kMaxDigits = 18;  // 10^18 fits uint64_t; more is longer than any max anyway

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

uint64_t unit_ms(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60'000;
  if (unit == "h") return 3'600'000;
  return 0;
}

uint64_t unit_ms(DurationUnit unit) {
  switch (unit) {
    case DurationUnit::kMilliseconds:
      return 1;
    case DurationUnit::kSeconds:
      return 1000;
    case DurationUnit::kMinutes:
      return 60'000;
    case DurationUnit::kHours:
      return 3'600'000;
    case DurationUnit::kNone:
      break;
  }
  return 0;
}

// At most kMaxDigits decimal digits (the caller checks) as a number.
uint64_t digits_value(std::string_view digits) {
  uint64_t v = 0;
  for (char c : digits) v = v * 10 + uint64_t(c - '0');
  return v;
}

U128 power_of_ten(size_t n) {
  U128 v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text,
                                                 const DurationOptions& options) {
  // DIGITS [ "." DIGITS ] LETTERS*
  size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  std::string_view whole = text.substr(0, i);
  std::string_view fraction;
  bool syntax_ok = !whole.empty();
  if (syntax_ok && i < text.size() && text[i] == '.') {
    const size_t begin = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    fraction = text.substr(begin, i - begin);
    syntax_ok = !fraction.empty();
  }
  std::string_view number = text.substr(0, i);
  std::string_view unit = text.substr(i);
  for (char c : unit) syntax_ok = syntax_ok && is_letter(c);
  if (!syntax_ok) {
    return invalid(quoted(text) + " is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")");
  }

  // Leading zeros of the whole part and trailing zeros of the fraction change nothing.
  while (!whole.empty() && whole.front() == '0') whole.remove_prefix(1);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  const bool zero = whole.empty() && fraction.empty();

  uint64_t scale = 0;
  if (unit.empty()) {
    scale = unit_ms(options.bare_number_unit);
    if (scale == 0) {
      if (zero && options.allow_zero) return std::chrono::milliseconds(0);
      const std::string n(number);
      return fraction.empty() ? invalid(n + " needs a unit: \"" + n + "ms\" or \"" + n + "s\"")
                              : invalid(n + " needs a unit: \"" + n + "s\" or \"" + n + "m\"");
    }
  } else {
    scale = unit_ms(unit);
    if (scale == 0) {
      return invalid(quoted(text) + " has unit " + quoted(unit) + "; use ms, s, m or h");
    }
  }

  auto too_long = [&] {
    return make_error(ErrorCode::kOutOfRange,
                      quoted(text) + " is longer than " + format_duration(options.max));
  };
  if (whole.size() > kMaxDigits) return too_long();
  if (fraction.size() > kMaxDigits) {  // cannot be a whole number of milliseconds
    return invalid(quoted(text) + " is not a whole number of milliseconds");
  }
  const U128 fraction_ms = U128(digits_value(fraction)) * scale;
  const U128 denominator = power_of_ten(fraction.size());
  if (fraction_ms % denominator != 0) {
    return invalid(quoted(text) + " is not a whole number of milliseconds");
  }
  const U128 ms = U128(digits_value(whole)) * scale + fraction_ms / denominator;
  if (ms == 0 && !options.allow_zero) {
    return make_error(ErrorCode::kOutOfRange, quoted(text) + " must be longer than 0");
  }
  if (ms > U128(options.max.count())) return too_long();
  return std::chrono::milliseconds(int64_t(ms));
}

std::string format_duration(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms == 0) return "0";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace rail
