// The topology file reader (strict, positioned errors via raild's MapReader) and the addressing.
#include "tools/testbed/topology.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "daemon/config/diagnostics.h"
#include "daemon/config/yaml_reader.h"

namespace rail::testbed {
namespace {

using daemon::Diagnostics;
using daemon::MapReader;
using daemon::Position;

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 8) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

void read_int(MapReader& m, std::string_view key, int min, int max, int& out) {
  uint32_t v = uint32_t(out);
  if (m.read_uint(key, uint64_t(min), uint64_t(max), v)) out = int(v);
}

void read_check(const YAML::Node& n, Diagnostics& d, HealthCheck& check) {
  MapReader m(n, "check", d, {"type", "interval", "timeout", "rise", "fall"});
  if (!m.is_map()) return;
  std::string type = check.type;
  if (m.read_enum<std::string>(
          "type", {{"tcp", "tcp"}, {"http", "http"}, {"udp", "udp"}, {"none", "none"}}, type))
    check.type = type;
  m.read_duration("interval", check.interval);
  m.read_duration("timeout", check.timeout);
  m.read_uint("rise", 1, 100, check.rise);
  m.read_uint("fall", 1, 100, check.fall);
  if (check.timeout > check.interval && m.has("timeout"))
    m.report(*m.find("timeout"), "timeout", "is longer than the interval");
}

void read_families(MapReader& m, Topology& t) {
  const YAML::Node* n = m.find("families");
  if (!n) return;
  if (!n->IsSequence() || n->size() == 0) {
    m.report(*n, "families", "expected a non-empty list of ipv4 and ipv6");
    return;
  }
  std::vector<Family> out;
  for (const YAML::Node& e : *n) {
    const std::string text = e.IsScalar() ? e.Scalar() : "";
    Family f;
    if (text == "ipv4") {
      f = Family::kV4;
    } else if (text == "ipv6") {
      f = Family::kV6;
    } else {
      m.report(e, "families", "\"" + text + "\" is not one of ipv4 or ipv6");
      return;
    }
    for (Family seen : out) {
      if (seen == f) {
        m.report(e, "families", text + " is listed twice");
        return;
      }
    }
    out.push_back(f);
  }
  t.families = out;
}

Topology read_topology(const YAML::Node& root, Diagnostics& d) {
  Topology t;
  MapReader m(root, "", d,
              {"name", "rail_nodes", "backends", "clients", "client_sources", "ingress", "families",
               "balancer", "port", "table_size", "check"});
  if (!m.is_map()) return t;
  if (m.read_string("name", t.name) && !valid_name(t.name))
    m.report(*m.find("name"), "name",
             "\"" + t.name + "\" must be 1..8 characters of a-z and 0-9 (namespaces are rtb-" +
                 "NAME-ROLE)");
  read_int(m, "rail_nodes", 1, 16, t.rail_nodes);
  read_int(m, "backends", 1, 99, t.backends);
  read_int(m, "clients", 1, 8, t.clients);
  read_int(m, "client_sources", 1, 240, t.client_sources);
  m.read_enum<Ingress>("ingress", {{"plain", Ingress::kPlain}, {"gre", Ingress::kGre}}, t.ingress);
  read_families(m, t);
  m.read_enum<Balancer>("balancer", {{"rail", Balancer::kRail}, {"haproxy", Balancer::kHaproxy}},
                        t.balancer);
  m.read_port("port", t.port);
  m.read_uint("table_size", 2, 67108864, t.table_size);
  if (const YAML::Node* c = m.find("check")) read_check(*c, d, t.check);

  if (t.clients * t.client_sources > 240 && d.empty())
    m.report(*m.find(m.has("client_sources") ? "client_sources" : "clients"),
             m.has("client_sources") ? "client_sources" : "clients",
             std::to_string(t.clients) + " clients x " + std::to_string(t.client_sources) +
                 " sources do not fit 198.18.1.10-198.18.1.249 (at most 240 in all)");
  if (t.balancer == Balancer::kHaproxy && t.ingress == Ingress::kGre && d.empty())
    m.report(*m.find("ingress"), "ingress",
             "gre ingress needs balancer: rail (HAProxy has no GRE)");
  return t;
}

}  // namespace

const char* to_string(Ingress ingress) {
  return ingress == Ingress::kPlain ? "plain" : "gre";
}
const char* to_string(Balancer balancer) {
  return balancer == Balancer::kRail ? "rail" : "haproxy";
}
const char* to_string(Family family) {
  return family == Family::kV4 ? "ipv4" : "ipv6";
}

bool Topology::has(Family family) const {
  for (Family f : families)
    if (f == family) return true;
  return false;
}

Result<Topology> parse_topology(std::string_view text, std::string_view source_name) {
  Diagnostics d{std::string(source_name)};
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsNull()) return Topology{};  // an empty file: every default
    Topology t = read_topology(root, d);
    if (!d.empty()) return d.error();
    return t;
  } catch (const YAML::Exception& e) {
    Position p = e.mark.is_null() ? Position{} : Position{e.mark.line + 1, e.mark.column + 1};
    d.add(p, "", "YAML syntax: " + e.msg);
    return d.error();
  }
}

Result<Topology> load_topology(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return make_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kSystem,
                      "cannot read topology " + path + ": " + std::strerror(err));
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_topology(text.str(), path);
}

namespace {
IpAddress parse_or_die(const std::string& text) {
  auto a = IpAddress::parse(text);
  assert(a);  // built from fixed, valid patterns
  return a ? *a : IpAddress();
}
}  // namespace

IpAddress vip(Family f) {
  return parse_or_die(f == Family::kV4 ? "198.18.100.1" : "2001:db8:100::1");
}
std::string vip_prefix(Family f) {
  return f == Family::kV4 ? "198.18.100.0/24" : "2001:db8:100::/64";
}
IpAddress router_fabric(Family f) {
  return parse_or_die(f == Family::kV4 ? "198.18.0.1" : "2001:db8::1");
}
IpAddress router_client_side(Family f) {
  return parse_or_die(f == Family::kV4 ? "198.18.1.1" : "2001:db8:1::1");
}
IpAddress node_address(int i, Family f) {
  const std::string n = std::to_string(10 + i);
  return parse_or_die(f == Family::kV4 ? "198.18.0." + n : "2001:db8::" + n);
}
IpAddress backend_address(int j, Family f) {
  const std::string n = std::to_string(100 + j);
  return parse_or_die(f == Family::kV4 ? "198.18.0." + n : "2001:db8::" + n);
}
IpAddress client_source(const Topology& t, int k, int n, Family f) {
  const int offset = (k - 1) * t.client_sources + n;
  if (f == Family::kV4) return parse_or_die("198.18.1." + std::to_string(10 + offset));
  char hex[8];
  std::snprintf(hex, sizeof(hex), "%x", 0x10 + offset);
  return parse_or_die(std::string("2001:db8:1::") + hex);
}
int prefix_length(Family f) {
  return f == Family::kV4 ? 24 : 64;
}

}  // namespace rail::testbed
