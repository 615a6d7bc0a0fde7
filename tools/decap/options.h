// rail-decap's command line: parsed into DecapCommandOptions or a usage error (exit code 2).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/net/address.h"
#include "core/result.h"

namespace rail::decap_cmd {

enum class AttachMode { kTc, kXdp, kXdpGeneric };
const char* to_string(AttachMode mode);

struct DecapCommandOptions {
  std::vector<std::string> interfaces;  // at least one
  std::vector<IpAddress> addresses;     // tunnel endpoints; empty iff any_address
  bool any_address = false;
  AttachMode mode = AttachMode::kTc;
  uint16_t gue_port = 6080;
  std::chrono::milliseconds stats_interval{10000};  // 0: no periodic stats lines
  bool json = false;
  bool check_only = false;
  bool help = false;
};

// --stats-interval: rail::parse_duration (core/duration.h) with a unit required, 0 allowed
// ("0" = no periodic stats lines), at most a day.
inline constexpr DurationOptions kStatsIntervalDurations{
    .allow_zero = true, .max = std::chrono::hours(24), .bare_number_unit = DurationUnit::kNone};

// argv without argv[0]. Errors (kInvalidArgument) name the option and the bad value.
Result<DecapCommandOptions> parse_options(const std::vector<std::string>& args);

extern const char* const kUsage;

}  // namespace rail::decap_cmd
