// The rail.yaml schema: reads node, pools and vips into a DaemonConfig, then runs the checks.
#include "daemon/config/yaml_loader.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/maglev/maglev_table.h"
#include "daemon/config/config_check.h"
#include "daemon/config/values.h"
#include "daemon/config/yaml_reader.h"

namespace rail::daemon {
namespace {

std::string index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// The elements of a list-valued key (nothing when absent or not a list; the latter reported).
std::vector<YAML::Node> list(MapReader& m, std::string_view key) {
  std::vector<YAML::Node> out;
  const YAML::Node* n = m.find(key);
  if (!n) return out;
  if (!n->IsSequence()) {
    m.report(*n, key, std::string("expected a list, found ") + kind_of(*n));
    return out;
  }
  size_t i = 0;
  for (const YAML::Node& e : *n) {
    Position p = position_of(e);
    m.diag().locate(index(m.field(key), i++), p.line ? p : position_of(*n));
    out.push_back(e);
  }
  return out;
}

bool absolute_path(MapReader& m, std::string_view key, std::string& out) {
  std::string v = out;
  if (!m.read_string(key, v)) return false;
  if (v.empty() || v[0] != '/') {
    m.report(*m.find(key), key, "\"" + v + "\" is not an absolute path");
    return false;
  }
  out = v;
  return true;
}

void read_api(const YAML::Node& n, const std::string& path, Diagnostics& d, NodeConfig& node) {
  MapReader m(n, path, d, {"listen", "token_file"});
  if (const YAML::Node* l = m.find("listen")) {
    if (auto t = scalar_text(*l, m.field("listen"), d, "ADDRESS:PORT")) {
      auto v = parse_listen(*t);
      if (v)
        node.api_listen = *v;
      else
        m.report(*l, "listen", v.error().message);
    }
  }
  if (m.has("token_file")) absolute_path(m, "token_file", node.api_token_file);
}

void read_family_address(MapReader& m, std::string_view key, bool v6,
                         std::optional<IpAddress>& out) {
  std::optional<IpAddress> a;
  if (!m.read_address(key, a) || !a) return;
  if (a->is_v6() != v6) {
    m.report(*m.find(key), key,
             a->to_string() + " is not an " + (v6 ? "IPv6" : "IPv4") + " address");
    return;
  }
  out = a;
}

void read_node(const YAML::Node& n, Diagnostics& d, NodeConfig& node) {
  MapReader m(n, "node", d,
              {"interfaces", "xdp_mode", "mac", "outer_source_v4", "outer_source_v6",
               "ingress_addresses", "mtu", "gue_port", "icmp_echo", "passive_icmp", "hash_seed",
               "api", "bpffs_dir", "state_file"});
  if (!m.is_map()) return;
  if (m.require("interfaces")) {
    auto items = list(m, "interfaces");
    for (size_t i = 0; i < items.size(); ++i) {
      std::string path = index(m.field("interfaces"), i);
      auto name = scalar_text(items[i], path, d, "an interface name");
      if (!name) continue;
      // IFNAMSIZ is 16 with the NUL; the kernel refuses '/', ':' and whitespace.
      if (name->empty() || name->size() > 15 || name->find_first_of("/: \t") != std::string::npos)
        d.add(position_of(items[i]), path, "\"" + *name + "\" is not an interface name");
      else
        node.interfaces.push_back(*name);
    }
    if (items.empty() && m.find("interfaces")->IsSequence())
      m.report(*m.find("interfaces"), "interfaces", "at least one interface is needed");
  }
  m.read_enum<XdpMode>(
      "xdp_mode",
      {{"auto", XdpMode::kAuto}, {"native", XdpMode::kNative}, {"generic", XdpMode::kGeneric}},
      node.xdp_mode);
  if (const YAML::Node* mac = m.find("mac")) {
    if (auto t = scalar_text(*mac, m.field("mac"), d, "\"auto\" or a MAC address")) {
      if (*t != "auto") {
        auto v = MacAddress::parse(*t);
        if (!v || v->is_zero())
          m.report(*mac, "mac",
                   "\"" + *t + "\" is not \"auto\" or a MAC address like 02:00:00:00:00:01");
        else
          node.mac = *v;
      }
    }
  }
  read_family_address(m, "outer_source_v4", false, node.outer_source_v4);
  read_family_address(m, "outer_source_v6", true, node.outer_source_v6);
  auto ingress = list(m, "ingress_addresses");
  for (size_t i = 0; i < ingress.size(); ++i) {
    std::string path = index(m.field("ingress_addresses"), i);
    auto t = scalar_text(ingress[i], path, d, "an IP address");
    if (!t) continue;
    auto a = IpAddress::parse(*t);
    if (!a)
      d.add(position_of(ingress[i]), path, "\"" + *t + "\" is not an IPv4 or IPv6 address");
    else
      node.ingress_addresses.push_back(*a);
  }
  m.read_uint("mtu", 576, 9216, node.mtu);
  m.read_port("gue_port", node.gue_port);
  m.read_bool("icmp_echo", node.icmp_echo);
  m.read_bool("passive_icmp", node.passive_icmp);
  m.read_uint("hash_seed", 0, UINT32_MAX, node.hash_seed);
  if (const YAML::Node* api = m.find("api")) read_api(*api, m.field("api"), d, node);
  absolute_path(m, "bpffs_dir", node.bpffs_dir);
  absolute_path(m, "state_file", node.state_file);
}

void read_check(const YAML::Node& n, const std::string& path, Diagnostics& d, HealthCheck& c) {
  MapReader m(n, path, d,
              {"type", "port", "path", "host", "expect", "interval", "timeout", "rise", "fall",
               "tls_verify", "via_vip"});
  if (!m.is_map()) return;
  if (!m.require("type")) return;
  if (!m.read_enum<CheckType>("type",
                              {{"tcp", CheckType::kTcp},
                               {"http", CheckType::kHttp},
                               {"https", CheckType::kHttps},
                               {"udp", CheckType::kUdp},
                               {"none", CheckType::kNone}},
                              c.type))
    return;
  const bool http = c.type == CheckType::kHttp || c.type == CheckType::kHttps;
  // Keys that mean nothing for this type are refused: the operator expected them to matter.
  auto only = [&](std::string_view key, bool allowed, const char* which) {
    if (m.has(key) && !allowed)
      m.report(*m.find(key), key,
               std::string("only applies to ") + which + " checks (this one is " +
                   to_string(c.type) + ")");
  };
  for (const char* k : {"port", "interval", "timeout", "rise", "fall", "via_vip"})
    only(k, c.type != CheckType::kNone, "tcp, udp, http and https");
  for (const char* k : {"path", "host", "expect"}) only(k, http, "http and https");
  only("tls_verify", c.type == CheckType::kHttps, "https");
  if (c.type == CheckType::kNone) return;

  c.port = c.type == CheckType::kHttp ? 80 : c.type == CheckType::kHttps ? 443 : 0;
  if (!c.port) m.require("port");
  m.read_port("port", c.port);
  if (http) {
    if (m.read_string("path", c.path) && (c.path.empty() || c.path[0] != '/'))
      m.report(*m.find("path"), "path", "\"" + c.path + "\" must start with /");
    m.read_string("host", c.host);
    m.read_uint("expect", 100, 599, c.expect);
  }
  m.read_duration("interval", c.interval);
  m.read_duration("timeout", c.timeout);
  m.read_uint("rise", 1, 100, c.rise);
  m.read_uint("fall", 1, 100, c.fall);
  m.read_bool("tls_verify", c.tls_verify);
  m.read_bool("via_vip", c.via_vip);
}

void read_backends(MapReader& m, Diagnostics& d, std::vector<PoolBackend>& out) {
  if (!m.require("backends")) return;
  auto items = list(m, "backends");
  for (size_t i = 0; i < items.size(); ++i)
    if (auto b = read_pool_backend(items[i], index(m.field("backends"), i), d))
      out.push_back(std::move(*b));
}

// A pool's body: named (pools[i]) or inline under a VIP (no name: it takes the VIP's).
void read_pool(const YAML::Node& n, const std::string& path, bool named, Diagnostics& d,
               Pool& pool) {
  std::vector<std::string> keys = {"backends", "check"};
  if (named) keys.push_back("name");
  MapReader m(n, path, d, keys);
  if (!m.is_map()) return;
  if (named && m.require("name")) m.read_string("name", pool.name);
  read_backends(m, d, pool.backends);
  if (const YAML::Node* c = m.find("check")) read_check(*c, m.field("check"), d, pool.check);
}

void read_vip(const YAML::Node& n, const std::string& path, Diagnostics& d, Vip& v,
              std::optional<Pool>& inline_pool) {
  MapReader m(n, path, d,
              {"name", "address", "protocol", "port", "encapsulation", "hash", "table_size", "pool",
               "need"});
  if (!m.is_map()) return;
  if (m.require("name")) m.read_string("name", v.name);
  if (m.require("address")) m.read_address("address", v.address);
  m.read_enum<Protocol>("protocol", {{"tcp", Protocol::kTcp}, {"udp", Protocol::kUdp}}, v.protocol);
  if (const YAML::Node* p = m.require("port")) {
    if (auto t = scalar_text(*p, m.field("port"), d, "a port or \"any\"")) {
      auto port = parse_port_or_any(*t);
      if (port)
        v.port = *port;
      else
        m.report(*p, "port", port.error().message);
    }
  }
  m.read_enum<Encap>(
      "encapsulation",
      {{"gre", Encap::kGre}, {"ipip", Encap::kIpip}, {"gue", Encap::kGue}, {"l2", Encap::kL2}},
      v.encap);
  m.read_enum<HashMode>("hash",
                        {{"5-tuple", HashMode::kFiveTuple},
                         {"3-tuple", HashMode::kThreeTuple},
                         {"source-ip", HashMode::kSourceIp}},
                        v.hash);
  m.read_uint("table_size", 2, kMaglevMaxTableSize, v.table_size);
  if (const YAML::Node* p = m.require("pool")) {
    if (p->IsMap()) {
      inline_pool.emplace();
      read_pool(*p, m.field("pool"), false, d, *inline_pool);
    } else if (auto name = scalar_text(*p, m.field("pool"), d, "a pool name or a mapping")) {
      v.pool = *name;
    }
  }
  m.read_uint("need", 0, UINT32_MAX, v.need);
}

DaemonConfig read_config(const YAML::Node& root, Diagnostics& d,
                         std::vector<std::string>& pool_paths) {
  DaemonConfig cfg;
  MapReader top(root, "", d, {"node", "pools", "vips"});
  if (!top.is_map()) return cfg;
  if (const YAML::Node* n = top.require("node")) read_node(*n, d, cfg.node);
  auto pools = list(top, "pools");
  for (size_t i = 0; i < pools.size(); ++i) {
    Pool p;
    read_pool(pools[i], index("pools", i), true, d, p);
    cfg.pools.push_back(std::move(p));
    pool_paths.push_back(index("pools", i));
  }
  auto vips = list(top, "vips");
  for (size_t i = 0; i < vips.size(); ++i) {
    VipEntry e = read_vip_entry(vips[i], index("vips", i), d);
    if (e.inline_pool) {
      cfg.pools.push_back(std::move(*e.inline_pool));
      pool_paths.push_back(index("vips", i) + ".pool");
    }
    cfg.vips.push_back(std::move(e.vip));
  }
  return cfg;
}

}  // namespace

std::optional<PoolBackend> read_pool_backend(const YAML::Node& item, const std::string& path,
                                             Diagnostics& d) {
  PoolBackend b;
  if (item.IsScalar()) {  // shorthand: "- 198.51.100.11"
    auto a = IpAddress::parse(item.Scalar());
    if (!a) {
      d.add(position_of(item), path, "\"" + item.Scalar() + "\" is not an IPv4 or IPv6 address");
      return std::nullopt;
    }
    d.locate(path + ".address", position_of(item));
    b.address = *a;
    return b;
  }
  MapReader bm(item, path, d, {"address", "weight", "name"});
  if (!bm.is_map()) return std::nullopt;
  if (!bm.require("address") || !bm.read_address("address", b.address)) return std::nullopt;
  bm.read_uint("weight", 0, 65535, b.weight);
  bm.read_string("name", b.name);
  return b;
}

VipEntry read_vip_entry(const YAML::Node& item, const std::string& path, Diagnostics& d) {
  d.locate(path, position_of(item));  // a no-op in a list (list() located it first)
  VipEntry e;
  read_vip(item, path, d, e.vip, e.inline_pool);
  if (e.inline_pool) {  // hoisted under the VIP's name, so consumers only follow names
    e.inline_pool->name = e.vip.name;
    e.vip.pool = e.vip.name;
  }
  return e;
}

Result<DaemonConfig> parse_config(std::string_view text, std::string_view source_name) {
  Diagnostics d{std::string(source_name)};
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsNull()) {
      d.add(Position{}, "", "the configuration is empty (expected node, pools and vips)");
      return d.error();
    }
    std::vector<std::string> pool_paths;
    DaemonConfig cfg = read_config(root, d, pool_paths);
    // Cross-field checks skip the parts that already have problems (see has_problem_under).
    check_config(cfg, pool_paths, d);
    if (!d.empty()) return d.error();
    return cfg;
  } catch (const YAML::Exception& e) {
    Position p = e.mark.is_null() ? Position{} : Position{e.mark.line + 1, e.mark.column + 1};
    d.add(p, "", "YAML syntax: " + e.msg);
    return d.error();
  } catch (const std::exception& e) {
    d.add(Position{}, "", std::string("cannot read: ") + e.what());
    return d.error();
  }
}

Result<DaemonConfig> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    ErrorCode code = err == ENOENT   ? ErrorCode::kNotFound
                     : err == EACCES ? ErrorCode::kPermission
                                     : ErrorCode::kSystem;
    return make_error(code, path + ": cannot open: " + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return make_error(ErrorCode::kSystem, path + ": cannot read: " + std::strerror(errno));
  return parse_config(text.str(), path);
}

}  // namespace rail::daemon
