// HealthCheckSpec validation and CheckType names.
#include "daemon/health/health_spec.h"

#include <vector>

namespace rail::health {

Result<CheckType> parse_check_type(std::string_view text) {
  for (CheckType t :
       {CheckType::kNone, CheckType::kTcp, CheckType::kHttp, CheckType::kHttps, CheckType::kUdp}) {
    if (text == to_string(t)) return t;
  }
  return make_error(ErrorCode::kInvalidArgument, "health check type '" + std::string(text) +
                                                     "' is not one of tcp, http, https, udp, none");
}

Status HealthCheckSpec::validate() const {
  std::vector<std::string> problems;
  if (type != CheckType::kNone && port == 0) problems.push_back("port must be set");
  if (interval.count() <= 0) problems.push_back("interval must be > 0 ms");
  if (timeout.count() <= 0) problems.push_back("timeout must be > 0 ms");
  if (timeout > interval) {
    problems.push_back("timeout " + std::to_string(timeout.count()) + " ms exceeds interval " +
                       std::to_string(interval.count()) + " ms");
  }
  if (rise < 1) problems.push_back("rise must be >= 1");
  if (fall < 1) problems.push_back("fall must be >= 1");
  if (type == CheckType::kHttp || type == CheckType::kHttps) {
    if (path.empty() || path[0] != '/') problems.push_back("path '" + path + "' must start with /");
    for (char c : path + host) {
      // A CR/LF or space would let the config inject headers into the request.
      if (c == '\r' || c == '\n' || c == ' ') {
        problems.push_back("path and host must not contain spaces or line breaks");
        break;
      }
    }
    if (expect_status < 100 || expect_status > 599) {
      problems.push_back("expect status " + std::to_string(expect_status) + " is not in 100..599");
    }
  }
  if (type == CheckType::kUdp && (udp_payload.empty() || udp_payload.size() > 512)) {
    problems.push_back("udp payload must be 1..512 bytes");
  }
  if (problems.empty()) return ok();
  std::string message = std::string(to_string(type)) + " health check: ";
  for (size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  return make_error(ErrorCode::kInvalidArgument, message);
}

std::string ProbeTarget::describe() const {
  std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(port);
}

}  // namespace rail::health
