// rail-decap's command line: parsed into DecapCommandOptions or a usage error (exit code 2).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

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

// "10s", "500ms", "2m", "0". Errors: kInvalidArgument naming the text.
Result<std::chrono::milliseconds> parse_duration(const std::string& text);
std::string format_duration(std::chrono::milliseconds d);

// argv without argv[0]. Errors (kInvalidArgument) name the option and the bad value.
Result<DecapCommandOptions> parse_options(const std::vector<std::string>& args);

extern const char* const kUsage;

}  // namespace rail::decap_cmd
