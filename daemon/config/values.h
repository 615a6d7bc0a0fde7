// Scalar values of rail.yaml (numbers, ports, durations, booleans, listen addresses) from text.
//
// Pure functions, no YAML: the loader hands them a scalar's text and puts the error message
// behind the field's position and path. Messages name the bad text and what would be accepted.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/duration.h"
#include "core/result.h"
#include "daemon/config/daemon_config.h"

namespace rail::daemon {

// Decimal or 0x-hexadecimal whole number in [min, max].
Result<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max);

// 0..65535 or "any" (= 0).
Result<uint16_t> parse_port_or_any(std::string_view text);

// Durations in rail.yaml: rail::parse_duration (core/duration.h) with these rules: a unit is
// required (is a bare "2" milliseconds or seconds?), longer than 0, at most a day. Written back
// with rail::format_duration.
inline constexpr DurationOptions kConfigDurations{
    .allow_zero = false, .max = std::chrono::hours(24), .bare_number_unit = DurationUnit::kNone};

// true | false (YAML 1.2 core schema; "yes"/"on" are refused as ambiguous).
Result<bool> parse_bool(std::string_view text);

// "127.0.0.1:9180" or "[::1]:9180".
Result<ListenAddress> parse_listen(std::string_view text);
std::string format_listen(const ListenAddress& listen);

}  // namespace rail::daemon
