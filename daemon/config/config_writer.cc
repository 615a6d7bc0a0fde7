// to_yaml(): emits a DaemonConfig in the rail.yaml schema with all defaults written out.
//
// Written by hand into one string (yaml-cpp's emitter matched every scalar against its regular
// expressions: tens of ms for 1000 backends, on every state-file write). The layout is the one
// the emitter produced: block mappings, one flow mapping per backend. A string is written plain
// only when it cannot mean anything else to a YAML parser (letters, digits and _ . / - :,
// starting with a letter, digit, _ or /, not ending with ':', no ':' inside [...] or {...},
// not null/true/false and the like); otherwise double-quoted with escapes. parse_config(to_yaml(c))
// == c (tests: daemon_config_loader_test, config_writer_roundtrip_test).
#include "daemon/config/config_writer.h"

#include <array>
#include <cstdio>
#include <string_view>

#include "daemon/config/values.h"

namespace rail::daemon {
namespace {

bool plain_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '/' || c == '-' || c == ':';
}

bool reserved_word(std::string_view s) {
  static constexpr std::array<std::string_view, 22> kWords = {
      "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes",
      "YES",  "no",   "No",   "NO",   "on",   "On",   "ON",    "off",   "Off",   "OFF", "y"};
  for (std::string_view w : kWords)
    if (s == w) return true;
  return s == "Y" || s == "n" || s == "N";
}

// `flow`: inside [...] or {...}, where a ':' is not left plain either.
bool can_be_plain(std::string_view s, bool flow) {
  if (s.empty() || s.back() == ':' || reserved_word(s)) return false;
  const char first = s.front();
  if (!plain_char(first) || first == '.' || first == '-' || first == ':') return false;
  for (char c : s)
    if (!plain_char(c) || (flow && c == ':')) return false;
  return true;
}

class Writer {
 public:
  std::string out;

  void str(std::string_view s, bool flow = false) {
    if (can_be_plain(s, flow)) {
      out += s;
      return;
    }
    out += '"';
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (u < 0x20 || u == 0x7f) {
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\x%02x", u);
        out += esc;
      } else {
        out += c;  // UTF-8 passes through
      }
    }
    out += '"';
  }
  void num(uint64_t v) { out += std::to_string(v); }
  void boolean(bool v) { out += v ? "true" : "false"; }
  // "<indent>key: " (the value follows).
  void key(int indent, std::string_view k) {
    out.append(size_t(indent), ' ');
    out += k;
    out += ": ";
  }
  void str_field(int indent, std::string_view k, std::string_view v) {
    key(indent, k);
    str(v);
    out += '\n';
  }
  void num_field(int indent, std::string_view k, uint64_t v) {
    key(indent, k);
    num(v);
    out += '\n';
  }
  void bool_field(int indent, std::string_view k, bool v) {
    key(indent, k);
    boolean(v);
    out += '\n';
  }
};

void write_check(Writer& w, const HealthCheck& c) {
  w.out += "    check:\n";
  w.str_field(6, "type", to_string(c.type));
  if (c.type == CheckType::kNone) return;
  w.num_field(6, "port", c.port);
  if (c.type == CheckType::kHttp || c.type == CheckType::kHttps) {
    w.str_field(6, "path", c.path);
    if (!c.host.empty()) w.str_field(6, "host", c.host);
    w.num_field(6, "expect", c.expect);
  }
  if (c.type == CheckType::kHttps) w.bool_field(6, "tls_verify", c.tls_verify);
  w.str_field(6, "interval", format_duration(c.interval));
  w.str_field(6, "timeout", format_duration(c.timeout));
  w.num_field(6, "rise", c.rise);
  w.num_field(6, "fall", c.fall);
  w.bool_field(6, "via_vip", c.via_vip);
}

void write_node(Writer& w, const NodeConfig& n) {
  w.out += "node:\n";
  w.key(2, "interfaces");
  w.out += '[';
  for (size_t i = 0; i < n.interfaces.size(); ++i) {
    if (i) w.out += ", ";
    w.str(n.interfaces[i], true);
  }
  w.out += "]\n";
  w.str_field(2, "xdp_mode", to_string(n.xdp_mode));
  w.str_field(2, "mac", n.mac ? n.mac->to_string() : "auto");
  if (n.outer_source_v4) w.str_field(2, "outer_source_v4", n.outer_source_v4->to_string());
  if (n.outer_source_v6) w.str_field(2, "outer_source_v6", n.outer_source_v6->to_string());
  w.key(2, "ingress_addresses");
  w.out += '[';
  for (size_t i = 0; i < n.ingress_addresses.size(); ++i) {
    if (i) w.out += ", ";
    w.str(n.ingress_addresses[i].to_string(), true);
  }
  w.out += "]\n";
  w.num_field(2, "mtu", n.mtu);
  w.num_field(2, "gue_port", n.gue_port);
  w.bool_field(2, "icmp_echo", n.icmp_echo);
  w.bool_field(2, "passive_icmp", n.passive_icmp);
  char seed[16];
  std::snprintf(seed, sizeof seed, "0x%08x", n.hash_seed);
  w.str_field(2, "hash_seed", seed);
  w.out += "  api:\n";
  w.str_field(4, "listen", format_listen(n.api_listen));
  if (!n.api_token_file.empty()) w.str_field(4, "token_file", n.api_token_file);
  w.str_field(2, "bpffs_dir", n.bpffs_dir);
  w.str_field(2, "state_file", n.state_file);
}

}  // namespace

std::string to_yaml(const DaemonConfig& c) {
  Writer w;
  size_t backends = 0;
  for (const Pool& p : c.pools) backends += p.backends.size();
  w.out.reserve(4096 + 64 * backends);
  write_node(w, c.node);
  w.out += c.pools.empty() ? "pools: []\n" : "pools:\n";
  for (const Pool& p : c.pools) {
    w.out += "  - name: ";
    w.str(p.name);
    w.out += '\n';
    if (p.backends.empty())
      w.out += "    backends: []\n";
    else
      w.out += "    backends:\n";
    for (const PoolBackend& b : p.backends) {
      w.out += "      - {address: ";
      w.str(b.address.to_string(), true);
      w.out += ", weight: ";
      w.num(b.weight);
      if (!b.name.empty()) {
        w.out += ", name: ";
        w.str(b.name, true);
      }
      w.out += "}\n";
    }
    write_check(w, p.check);
  }
  w.out += c.vips.empty() ? "vips: []\n" : "vips:\n";
  for (const Vip& v : c.vips) {
    w.out += "  - name: ";
    w.str(v.name);
    w.out += '\n';
    w.str_field(4, "address", v.address.to_string());
    w.str_field(4, "protocol", v.protocol == Protocol::kTcp ? "tcp" : "udp");
    if (v.port)
      w.num_field(4, "port", v.port);
    else
      w.str_field(4, "port", "any");
    w.str_field(4, "encapsulation", encap_name(v.encap));
    w.str_field(4, "hash", to_string(v.hash));
    w.num_field(4, "table_size", v.table_size);
    w.str_field(4, "pool", v.pool);
    w.num_field(4, "need", v.need);
  }
  return std::move(w.out);
}

}  // namespace rail::daemon
