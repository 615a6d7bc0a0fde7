// The read-only API subcommands: `vips`, `vip NAME`, `health`, `metrics`. Human output is
// aligned tables built from the API's JSON (docs/api.md); --json prints that JSON instead.
#include <cstdio>
#include <string>

#include "tools/railctl/api_client.h"
#include "tools/railctl/api_table.h"

namespace rail::railctl {
namespace {

using nlohmann::json;

// A field as text whatever its JSON type ("-" when absent or null), so a field the API adds
// or drops later degrades to "-" rather than an exception.
std::string text(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "-";
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump();
}

std::string proto_port(const json& vip) {
  const std::string port = text(vip, "port");
  return text(vip, "protocol") + "/" + (port == "0" ? "any" : port);
}

// up/drained/down as the data plane has it, with why when an operator override decided it.
std::string backend_state(const json& b) {
  if (b.contains("forced") && b["forced"].is_string())
    return "forced-" + b["forced"].get<std::string>();
  if (b.value("drained", false)) return "drained";
  return text(b, "state");
}

// The last check's latency in milliseconds, "-" for unchecked pools.
std::string check_latency(const json& b) {
  if (!b.contains("check") || !b["check"].is_object()) return "-";
  const json& c = b["check"];
  if (!c.contains("latency_seconds") || !c["latency_seconds"].is_number() ||
      c.value("count", 0) == 0)
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fms", c["latency_seconds"].get<double>() * 1000);
  return buf;
}

std::string weight(const json& b) {
  const std::string configured = text(b, "weight");
  const std::string effective = text(b, "effective_weight");
  return effective == configured || effective == "-" ? configured
                                                     : configured + " (" + effective + ")";
}

int run_vips(const ApiSettings& s) {
  int code = kExitOk;
  auto j = api_call(s, "GET", "/v1/vips", code);
  if (!j) return code;
  if (s.json) {
    print_json(*j);
    return kExitOk;
  }
  TextTable t({"NAME", "ADDRESS", "PROTO/PORT", "ENCAP", "HEALTHY/NEED>", "PACKETS>", "BYTES>",
               "NEW FLOWS>"});
  for (const json& v : j->value("vips", json::array()))
    t.add({text(v, "name"), text(v, "address"), proto_port(v), text(v, "encapsulation"),
           text(v, "up") + "/" + text(v, "need"), text(v, "packets"), text(v, "bytes"),
           text(v, "new_flows")});
  t.print();
  return kExitOk;
}

int run_vip(const ApiSettings& s, const std::string& name) {
  int code = kExitOk;
  auto j = api_call(s, "GET", "/v1/vips/" + url_segment(name), code);
  if (!j) return code;
  if (s.json) {
    print_json(*j);
    return kExitOk;
  }
  const json& v = *j;
  std::printf("VIP %s  %s %s  encap %s  hash %s  table %s\n", text(v, "name").c_str(),
              text(v, "address").c_str(), proto_port(v).c_str(), text(v, "encapsulation").c_str(),
              text(v, "hash").c_str(), text(v, "table_size").c_str());
  std::printf("pool %s  healthy %s (%s up, need %s)  rebuilds %s\n", text(v, "pool").c_str(),
              text(v, "healthy").c_str(), text(v, "up").c_str(), text(v, "need").c_str(),
              text(v, "table_rebuilds").c_str());
  std::printf("traffic: %s packets, %s bytes, %s new flows\n\n", text(v, "packets").c_str(),
              text(v, "bytes").c_str(), text(v, "new_flows").c_str());
  TextTable t({"ADDRESS", "NAME", "WEIGHT>", "STATE", "HEALTH", "CHECK>", "PACKETS>", "BYTES>"});
  for (const json& b : v.value("backends", json::array()))
    t.add({text(b, "address"), text(b, "name"), weight(b), backend_state(b), text(b, "health"),
           check_latency(b), text(b, "packets"), text(b, "bytes")});
  t.print();
  return kExitOk;
}

// /healthz and /readyz are plain text; both are shown, and the exit code is 0 only when both
// answered 200 (so scripts can wait on `railctl health`).
int run_health(const ApiSettings& s) {
  int result = kExitOk;
  json both = json::object();
  for (const char* path : {"/healthz", "/readyz"}) {
    auto r = api_request(s, "GET", path);
    if (!r) return report_failure(r.error());
    std::string body = r->body;
    while (!body.empty() && body.back() == '\n') body.pop_back();
    both[path + 1] = {{"status", r->status}, {"body", body}};
    if (!s.json) std::printf("%-8s %d %s\n", path + 1, r->status, body.c_str());
    if (r->status != 200) result = kExitFailure;
  }
  if (s.json) print_json(both);
  return result;
}

int run_metrics(const ApiSettings& s) {
  auto r = api_request(s, "GET", "/metrics");
  if (!r) return report_failure(r.error());
  if (r->status != 200) return report_api_error(s, *r);
  std::fwrite(r->body.data(), 1, r->body.size(), stdout);
  return kExitOk;
}

}  // namespace

void add_api_read_commands(CLI::App& app, Action& action, std::shared_ptr<ApiSettings> s) {
  app.add_subcommand("vips", "list the VIPs: health, traffic")->callback([s, &action] {
    action = [s] { return run_vips(*s); };
  });
  CLI::App* vip = app.add_subcommand("vip", "show one VIP and its backends");
  auto name = std::make_shared<std::string>();
  vip->add_option("NAME", *name, "the VIP's name")->required();
  vip->callback([s, name, &action] { action = [s, name] { return run_vip(*s, *name); }; });
  app.add_subcommand("health", "GET /healthz and /readyz (exit 0 when both are 200)")
      ->callback([s, &action] { action = [s] { return run_health(*s); }; });
  app.add_subcommand("metrics", "print /metrics (Prometheus text)")->callback([s, &action] {
    action = [s] { return run_metrics(*s); };
  });
}

}  // namespace rail::railctl
