// Scalar values of rail.yaml (numbers, ports, durations, booleans, listen addresses) from text.
//
// Pure functions, no YAML: the loader hands them a scalar's text and puts the error message
// behind the field's position and path. Messages name the bad text and what would be accepted.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/result.h"
#include "daemon/config/daemon_config.h"

namespace rail::daemon {

// Decimal or 0x-hexadecimal whole number in [min, max].
Result<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max);

// 0..65535 or "any" (= 0).
Result<uint16_t> parse_port_or_any(std::string_view text);

// "500ms", "1s", "2m"; a unit is required and the value must be > 0.
Result<Millis> parse_duration(std::string_view text);
std::string format_duration(Millis d);  // shortest exact form: "1500ms", "2s", "1m"

// true | false (YAML 1.2 core schema; "yes"/"on" are refused as ambiguous).
Result<bool> parse_bool(std::string_view text);

// "127.0.0.1:9180" or "[::1]:9180".
Result<ListenAddress> parse_listen(std::string_view text);
std::string format_listen(const ListenAddress& listen);

}  // namespace rail::daemon
