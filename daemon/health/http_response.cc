// Building the check request and reading the status line of the answer.
#include "daemon/health/http_response.h"

namespace rail::health {

std::string build_http_request(const HealthCheckSpec& spec, const ProbeTarget& target) {
  std::string host = spec.host;
  if (host.empty()) {
    host = target.address.is_v6() ? "[" + target.address.to_string() + "]"
                                  : target.address.to_string();
    uint16_t default_port = spec.type == CheckType::kHttps ? 443 : 80;
    if (target.port != default_port) host += ":" + std::to_string(target.port);
  }
  return "GET " + spec.path + " HTTP/1.1\r\nHost: " + host +
         "\r\nUser-Agent: rail-health/1\r\nAccept: */*\r\nConnection: close\r\n\r\n";
}

Result<int> parse_status_line(std::string_view head) {
  std::string_view line = head.substr(0, head.find("\r\n"));
  auto malformed = [&] {
    std::string shown(line.substr(0, 64));
    for (char& c : shown) {
      if (c < 0x20 || c > 0x7e) c = '?';  // never echo control bytes into logs
    }
    return make_error(ErrorCode::kMalformed, "not an HTTP status line: '" + shown + "'");
  };
  // "HTTP/1.1 200" is the minimum: version, one space, three digits.
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return malformed();
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return malformed();
    code = code * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') return malformed();
  if (code < 100) return malformed();
  return code;
}

size_t find_head_end(std::string_view received) {
  size_t at = received.find("\r\n\r\n");
  return at == std::string_view::npos ? at : at + 4;
}

}  // namespace rail::health
