// JSON views: field names follow the config's keys where there is one (docs/api.md).
#include "daemon/api/json_views.h"

#include <sstream>

namespace rail::daemon {

using nlohmann::json;

json to_json(const BackendView& b) {
  json j = {{"pool", b.pool},
            {"address", b.config.address.to_string()},
            {"name", b.config.name},
            {"weight", b.config.weight},
            {"effective_weight", b.effective_weight},
            {"state", backend_state_name(b.state)},
            {"drained", b.drained},
            {"forced", b.forced ? json(backend_state_name(*b.forced)) : json(nullptr)},
            {"next_hop_resolved", b.next_hop_resolved},
            {"packets", b.traffic.packets},
            {"bytes", b.traffic.bytes},
            {"new_flows", b.traffic.new_flows}};
  if (!b.checked) {
    j["health"] = "unchecked";
  } else {
    j["health"] = b.health ? backend_state_name(*b.health) : "unknown";
    j["check"] = {
        {"latency_seconds", b.check_latency_seconds}, {"last", b.last_check}, {"count", b.checks}};
  }
  return j;
}

json to_json(const VipView& v) {
  const Vip& c = v.config;
  json backends = json::array();
  for (const BackendView& b : v.backends) backends.push_back(to_json(b));
  return {{"name", c.name},
          {"address", c.address.to_string()},
          {"protocol", c.protocol == Protocol::kTcp ? "tcp" : "udp"},
          {"port", c.port},
          {"encapsulation", encap_name(c.encap)},
          {"hash", to_string(c.hash)},
          {"table_size", c.table_size},
          {"pool", c.pool},
          {"need", c.need},
          {"up", v.up},
          {"healthy", v.healthy()},
          {"table_rebuilds", v.table_rebuilds},
          {"packets", v.traffic.packets},
          {"bytes", v.traffic.bytes},
          {"new_flows", v.traffic.new_flows},
          {"backends", backends}};
}

json error_json(const Error& error) {
  std::vector<std::string> lines;
  std::istringstream in(error.message);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  std::string summary = lines.size() == 1
                            ? lines[0]
                            : std::to_string(lines.size()) + " problems; nothing was changed";
  return {{"error", summary}, {"code", to_string(error.code)}, {"details", lines}};
}

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
    case ErrorCode::kMalformed:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
      return 409;
    default:
      return 500;
  }
}

}  // namespace rail::daemon
