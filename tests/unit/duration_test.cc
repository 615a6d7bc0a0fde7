// core/duration: the one duration grammar, each DurationOptions rule, and the formatter.
#include "core/duration.h"

#include <gtest/gtest.h>

#include <vector>

namespace rail {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

constexpr DurationOptions kStrict{};  // no zero, no bare number, at most a day
constexpr DurationOptions kLenient{
    .allow_zero = true, .max = hours(24 * 365), .bare_number_unit = DurationUnit::kSeconds};
constexpr DurationOptions kZeroNoBare{.allow_zero = true};

struct Case {
  const char* text;
  const DurationOptions* options;
  long long ms;         // the value when `message` is empty
  const char* message;  // the error message, else ""
  ErrorCode code = ErrorCode::kInvalidArgument;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      // Units and fractions.
      {"500ms", &kStrict, 500, ""},
      {"2s", &kStrict, 2000, ""},
      {"1m", &kStrict, 60'000, ""},
      {"2h", &kStrict, 7'200'000, ""},
      {"1.5s", &kStrict, 1500, ""},
      {"0.25m", &kStrict, 15'000, ""},
      {"1.50s", &kStrict, 1500, ""},
      {"007s", &kStrict, 7000, ""},
      {"2.000ms", &kStrict, 2, ""},
      {"24h", &kStrict, 86'400'000, ""},
      {"1440m", &kStrict, 86'400'000, ""},
      // Bare numbers.
      {"2", &kStrict, 0, "2 needs a unit: \"2ms\" or \"2s\""},
      {"1.5", &kStrict, 0, "1.5 needs a unit: \"1.5s\" or \"1.5m\""},
      {"3", &kLenient, 3000, ""},
      {"1.5", &kLenient, 1500, ""},
      {"0", &kLenient, 0, ""},
      {"0", &kZeroNoBare, 0, ""},
      {"00", &kZeroNoBare, 0, ""},
      {"5", &kZeroNoBare, 0, "5 needs a unit: \"5ms\" or \"5s\""},
      {"0", &kStrict, 0, "0 needs a unit: \"0ms\" or \"0s\""},
      // Zero.
      {"0s", &kStrict, 0, "\"0s\" must be longer than 0", ErrorCode::kOutOfRange},
      {"0.0ms", &kStrict, 0, "\"0.0ms\" must be longer than 0", ErrorCode::kOutOfRange},
      {"0s", &kLenient, 0, ""},
      {"0ms", &kZeroNoBare, 0, ""},
      // Longest.
      {"2000m", &kStrict, 0, "\"2000m\" is longer than 24h", ErrorCode::kOutOfRange},
      {"86400001ms", &kStrict, 0, "\"86400001ms\" is longer than 24h", ErrorCode::kOutOfRange},
      {"8760h", &kLenient, 8760LL * 3'600'000, ""},
      {"8761h", &kLenient, 0, "\"8761h\" is longer than 8760h", ErrorCode::kOutOfRange},
      {"9999999999999999999999s", &kLenient, 0, "\"9999999999999999999999s\" is longer than 8760h",
       ErrorCode::kOutOfRange},
      // Sub-millisecond.
      {"1.5ms", &kStrict, 0, "\"1.5ms\" is not a whole number of milliseconds"},
      {"0.0001s", &kLenient, 0, "\"0.0001s\" is not a whole number of milliseconds"},
      {"1.0000000000000000000001s", &kLenient, 0,
       "\"1.0000000000000000000001s\" is not a whole number of milliseconds"},
      // Units.
      {"2x", &kStrict, 0, "\"2x\" has unit \"x\"; use ms, s, m or h"},
      {"2sec", &kLenient, 0, "\"2sec\" has unit \"sec\"; use ms, s, m or h"},
      {"2S", &kStrict, 0, "\"2S\" has unit \"S\"; use ms, s, m or h"},
      // Not a duration at all.
      {"", &kStrict, 0, "\"\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
      {"s", &kStrict, 0, "\"s\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
      {"ms", &kLenient, 0, "\"ms\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
      {"-1s", &kLenient, 0, "\"-1s\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
      {"+1s", &kLenient, 0, "\"+1s\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
      {".5s", &kLenient, 0, "\".5s\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
      {"1.s", &kLenient, 0, "\"1.s\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
      {"1.2.3s", &kLenient, 0,
       "\"1.2.3s\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
      {"2 s", &kLenient, 0, "\"2 s\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
      {" 2s", &kLenient, 0, "\" 2s\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
      {"1e3s", &kLenient, 0,
       "\"1e3s\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
      {"1m30s", &kLenient, 0,
       "\"1m30s\" is not a duration (e.g. \"500ms\", \"2s\", \"1.5m\", \"1h\")"},
  };
  return all;
}

TEST(Duration, TableOfInputs) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.text);
    auto d = parse_duration(c.text, *c.options);
    if (std::string(c.message).empty()) {
      ASSERT_TRUE(d) << d.error().message;
      EXPECT_EQ(d->count(), c.ms);
    } else {
      ASSERT_FALSE(d) << d->count();
      EXPECT_EQ(d.error().message, c.message);
      EXPECT_EQ(d.error().code, c.code);
    }
  }
}

TEST(Duration, FormatIsTheShortestExactFormAndReadsBack) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(2000)), "2s");
  EXPECT_EQ(format_duration(milliseconds(120'000)), "2m");
  EXPECT_EQ(format_duration(milliseconds(5'400'000)), "90m");
  EXPECT_EQ(format_duration(hours(24)), "24h");
  for (long long ms : {1LL, 999LL, 1000LL, 61'000LL, 3'600'000LL, 86'400'000LL}) {
    auto back = parse_duration(format_duration(milliseconds(ms)), kStrict);
    ASSERT_TRUE(back) << ms;
    EXPECT_EQ(back->count(), ms);
  }
  EXPECT_EQ(*parse_duration(format_duration(milliseconds(0)), kZeroNoBare), milliseconds(0));
}

}  // namespace
}  // namespace rail
