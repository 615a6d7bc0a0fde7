// CheckType: the kinds of health check, shared by the check engine and raild's config model.
#pragma once

#include <cstdint>

namespace rail::health {

enum class CheckType : uint8_t { kNone, kTcp, kHttp, kHttps, kUdp };

// The name as written in rail.yaml ("tcp", "http", ...).
inline const char* to_string(CheckType type) {
  switch (type) {
    case CheckType::kNone:
      return "none";
    case CheckType::kTcp:
      return "tcp";
    case CheckType::kHttp:
      return "http";
    case CheckType::kHttps:
      return "https";
    case CheckType::kUdp:
      return "udp";
  }
  return "unknown";
}

}  // namespace rail::health
