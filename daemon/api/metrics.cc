// Prometheus text rendering: one family at a time (HELP, TYPE, then its samples).
#include "daemon/api/metrics.h"

#include <cstdio>
#include <map>
#include <set>
#include <utility>

namespace rail::daemon {
namespace {

using Labels = std::vector<std::pair<const char*, std::string>>;

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(const char* name, const Labels& labels, double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i) out_ += ',';
        out_ += labels[i].first;
        out_ += "=\"";
        out_ += escape_label_value(labels[i].second);
        out_ += '"';
      }
      out_ += '}';
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.17g\n", value);
    out_ += buf;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

constexpr const char* kDropReasons[RAIL_DROP_REASON_MAX] = {
    "none",           "malformed_l2",    "malformed_l3",
    "malformed_l4",   "malformed_encap", "unsupported_encap",
    "no_service",     "no_backend",      "too_big_no_df",
    "icmp_unmatched", "no_nexthop",      "adjust_failed",
    "icmp_echo_off"};

Labels vip_labels(const VipView& v) {
  return {{"vip", v.config.name}};
}
Labels backend_labels(const BackendView& b) {
  return {{"pool", b.pool}, {"backend", b.config.address.to_string()}};
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

const char* drop_reason_label(int reason) {
  return reason >= 0 && reason < RAIL_DROP_REASON_MAX ? kDropReasons[reason] : "unknown";
}

std::string render_icmp_metrics(const health::IcmpListenerStats& s) {
  Writer w;
  w.family("rail_icmp_received_total", "counter",
           "ICMP destination-unreachable messages read by the passive listener");
  w.sample("rail_icmp_received_total", {{"family", "ipv4"}}, double(s.received_v4));
  w.sample("rail_icmp_received_total", {{"family", "ipv6"}}, double(s.received_v6));
  w.family("rail_icmp_matched_total", "counter",
           "ICMP unreachables about a backend that triggered its health check at once");
  w.sample("rail_icmp_matched_total", {}, double(s.matched));
  w.family("rail_icmp_ignored_total", "counter",
           "ICMP unreachables that triggered nothing, by reason");
  for (size_t i = 0; i < s.ignored.size(); ++i)
    w.sample("rail_icmp_ignored_total", {{"reason", to_string(health::IcmpIgnored(i))}},
             double(s.ignored[i]));
  return w.take();
}

std::string render_metrics(const std::vector<VipView>& vips, const NodeView& node) {
  Writer w;
  struct Traffic {
    const char* name;
    const char* help;
    uint64_t TrafficCounters::*field;
  };
  const Traffic traffic[] = {
      {"packets", "packets", &TrafficCounters::packets},
      {"bytes", "frame bytes as received", &TrafficCounters::bytes},
      {"new_flows", "new connection-table entries", &TrafficCounters::new_flows},
  };
  for (const Traffic& t : traffic) {
    const std::string name = std::string("rail_vip_") + t.name + "_total";
    const std::string help = std::string("VIP ") + t.help + " received by the data plane.";
    w.family(name.c_str(), "counter", help.c_str());
    for (const VipView& v : vips) w.sample(name.c_str(), vip_labels(v), double(v.traffic.*t.field));
  }
  for (const Traffic& t : traffic) {
    const std::string name = std::string("rail_backend_") + t.name + "_total";
    const std::string help = std::string("Backend ") + t.help + " sent towards it, per VIP.";
    w.family(name.c_str(), "counter", help.c_str());
    for (const VipView& v : vips)
      for (const BackendView& b : v.backends) {
        Labels l = vip_labels(v);
        for (auto& e : backend_labels(b)) l.push_back(e);
        w.sample(name.c_str(), l, double(b.traffic.*t.field));
      }
  }
  w.family("rail_vip_healthy", "gauge", "1 if the VIP has at least `need` backends up.");
  for (const VipView& v : vips) w.sample("rail_vip_healthy", vip_labels(v), v.healthy() ? 1 : 0);
  w.family("rail_vip_backends_up", "gauge", "Backends up with weight > 0.");
  for (const VipView& v : vips) w.sample("rail_vip_backends_up", vip_labels(v), v.up);
  w.family("rail_vip_backends_needed", "gauge", "The VIP's `need`.");
  for (const VipView& v : vips) w.sample("rail_vip_backends_needed", vip_labels(v), v.config.need);
  w.family("rail_table_rebuilds_total", "counter", "Maglev tables rebuilt (changed) per VIP.");
  for (const VipView& v : vips)
    w.sample("rail_table_rebuilds_total", vip_labels(v), double(v.table_rebuilds));

  // Health is per (pool, backend): report each once even if several VIPs share the pool.
  std::map<std::pair<std::string, IpAddress>, const BackendView*> backends;
  for (const VipView& v : vips)
    for (const BackendView& b : v.backends)
      backends.emplace(std::pair{b.pool, b.config.address}, &b);
  w.family("rail_backend_up", "gauge", "1 if the backend takes new flows' state (up), else 0.");
  for (const auto& [k, b] : backends)
    w.sample("rail_backend_up", backend_labels(*b), b->state == BackendState::kUp ? 1 : 0);
  w.family("rail_backend_weight", "gauge", "Effective weight (0 while drained).");
  for (const auto& [k, b] : backends)
    w.sample("rail_backend_weight", backend_labels(*b), b->effective_weight);
  w.family("rail_backend_check_latency_seconds", "gauge", "Duration of the last health check.");
  for (const auto& [k, b] : backends)
    if (b->checked)
      w.sample("rail_backend_check_latency_seconds", backend_labels(*b), b->check_latency_seconds);

  w.family("rail_drops_total", "counter", "Packets dropped by the data plane, by reason.");
  for (int r = 1; r < RAIL_DROP_REASON_MAX; ++r)
    w.sample("rail_drops_total", {{"reason", drop_reason_label(r)}},
             double(node.counters[RAIL_CNT_DROP_REASON_BASE + r]));
  w.family("rail_packets_total", "counter", "Data plane packets by verdict.");
  const std::pair<const char*, int> verdicts[] = {
      {"rx", RAIL_CNT_RX}, {"pass", RAIL_CNT_PASS}, {"tx", RAIL_CNT_TX}, {"drop", RAIL_CNT_DROP}};
  for (const auto& [label, idx] : verdicts)
    w.sample("rail_packets_total", {{"verdict", label}}, double(node.counters[idx]));
  w.family("rail_config_changes_total", "counter", "Configs applied to the data plane.");
  w.sample("rail_config_changes_total", {}, double(node.changes));
  w.family("rail_config_refused_total", "counter", "Changes refused (invalid or not applied).");
  w.sample("rail_config_refused_total", {}, double(node.refused_changes));
  w.family("rail_state_persist_errors_total", "counter", "Failed writes of the state files.");
  w.sample("rail_state_persist_errors_total", {}, double(node.persist_errors));
  w.family("rail_last_change_apply_seconds", "gauge",
           "From the start of the last change to the data plane having it.");
  w.sample("rail_last_change_apply_seconds", {}, node.last_apply_seconds);
  return w.take();
}

}  // namespace rail::daemon
