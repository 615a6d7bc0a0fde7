// Cross-field checks of a DaemonConfig, reported by field path (positions come from the loader).
#include "daemon/config/config_check.h"

#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "core/backend_identity.h"
#include "core/forwarder/encap.h"
#include "core/maglev/maglev_table.h"
#include "daemon/config/values.h"

namespace rail::daemon {
namespace {

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

std::string vip_text(const Vip& v) {
  std::string a = v.address.is_v6() ? "[" + v.address.to_string() + "]" : v.address.to_string();
  return a + ":" + (v.port ? std::to_string(v.port) : std::string("any")) +
         (v.protocol == Protocol::kTcp ? "/tcp" : "/udp");
}

std::string prime_hint(uint32_t n) {
  uint32_t below = n, above = n;
  while (below > 2 && !is_prime(below)) --below;
  while (above < kMaglevMaxTableSize && !is_prime(above)) ++above;
  std::string s = " (nearest primes: ";
  if (is_prime(below)) s += std::to_string(below) + ", ";
  return s + std::to_string(above) + ")";
}

void check_node(const NodeConfig& n, Diagnostics& d) {
  if (d.has_problem_under("node")) return;
  std::map<std::string, size_t> ifs;
  for (size_t i = 0; i < n.interfaces.size(); ++i)
    if (!ifs.emplace(n.interfaces[i], i).second)
      d.add("node.interfaces[" + std::to_string(i) + "]",
            quoted(n.interfaces[i]) + " is listed twice");
  std::set<IpAddress> ingress;
  for (size_t i = 0; i < n.ingress_addresses.size(); ++i)
    if (!ingress.insert(n.ingress_addresses[i]).second)
      d.add("node.ingress_addresses[" + std::to_string(i) + "]",
            n.ingress_addresses[i].to_string() + " is listed twice");
}

void check_pool_backends(const Pool& p, const std::string& pp, Diagnostics& d) {
  // Paths and address texts only for what is reported: this runs on every API change, and a
  // string per backend was most of its cost with 1000 backends.
  auto path = [&](size_t j) { return pp + ".backends[" + std::to_string(j) + "]"; };
  std::unordered_map<IpAddress, size_t, IpAddressHash> addrs;
  addrs.reserve(p.backends.size());
  std::vector<bool> repeated_address(p.backends.size());
  for (size_t j = 0; j < p.backends.size(); ++j) {
    const PoolBackend& b = p.backends[j];
    if (auto [it, fresh] = addrs.emplace(b.address, j); !fresh) {
      repeated_address[j] = true;
      d.add(path(j) + ".address", b.address.to_string() + " is already backends[" +
                                      std::to_string(it->second) + "] of this pool");
    }
  }
  // The Maglev identity (name, else address text) must be unique: it places the backend.
  for (const DuplicateIdentity& dup :
       duplicate_identities(p.backends, [&](size_t j) { return repeated_address[j]; })) {
    const PoolBackend& b = p.backends[dup.later];
    d.add(path(dup.later) + (b.name.empty() ? ".address" : ".name"),
          "identity " + quoted(b.name.empty() ? b.address.to_string() : b.name) +
              " is already used by backends[" + std::to_string(dup.first) + "] of this pool");
  }
}

void check_pool(const Pool& p, const std::string& pp, bool named, Diagnostics& d) {
  if (named && p.name.empty() && !d.has_problem_under(pp + ".name"))
    d.add(pp + ".name", "must not be empty");
  if (!d.has_problem_under(pp + ".backends")) check_pool_backends(p, pp, d);
  const HealthCheck& c = p.check;
  if (!d.has_problem_under(pp + ".check") && c.type != CheckType::kNone && c.timeout > c.interval)
    d.add(pp + ".check.timeout", format_duration(c.timeout) + " is longer than the interval (" +
                                     format_duration(c.interval) + ")");
}

void check_vip_backends(const Vip& v, const std::string& vp, const Pool& pool,
                        const NodeConfig& node, Diagnostics& d) {
  auto bad = [&](const char* field) { return d.has_problem_under(vp + "." + field); };
  const bool v4_ok = !d.has_problem_under("node.outer_source_v4");
  const bool v6_ok = !d.has_problem_under("node.outer_source_v6");
  const bool mtu_ok = !d.has_problem_under("node.mtu");
  const size_t n = pool.backends.size();
  if (!bad("need") && v.need > n)
    d.add(vp + ".need", std::to_string(v.need) + " healthy backends needed but pool " +
                            quoted(pool.name) + " has only " + std::to_string(n));
  if (!bad("table_size") && is_prime(v.table_size) && v.table_size <= n)
    d.add(vp + ".table_size", std::to_string(v.table_size) + " must be larger than the " +
                                  std::to_string(n) + " backends (ideally 100 times larger)");
  if (bad("address") || bad("encapsulation")) return;
  bool reported_v4 = false, reported_v6 = false, reported_l2 = false, reported_mtu = false;
  for (const PoolBackend& b : pool.backends) {
    auto ba = [&b] { return b.address.to_string(); };  // only for a message
    if (v.encap == Encap::kL2) {
      if (b.address.family() != v.address.family() && !reported_l2) {
        reported_l2 = true;
        d.add(vp + ".encapsulation", "l2 needs backends in the VIP's address family; " + ba() +
                                         " (pool " + quoted(pool.name) + ") is not");
      }
    } else if (b.address.is_v4() && v4_ok && !node.outer_source_v4 && !reported_v4) {
      reported_v4 = true;
      d.add(vp + ".pool", "backend " + ba() + " is IPv4 but node.outer_source_v4 is not set (" +
                              encap_name(v.encap) + " needs an outer source)");
    } else if (b.address.is_v6() && v6_ok && !node.outer_source_v6 && !reported_v6) {
      reported_v6 = true;
      d.add(vp + ".pool", "backend " + ba() + " is IPv6 but node.outer_source_v6 is not set (" +
                              encap_name(v.encap) + " needs an outer source)");
    }
    uint32_t need_mtu = 1280 + encap_overhead(v.encap, b.address.is_v6());
    if (mtu_ok && v.address.is_v6() && node.mtu < need_mtu && !reported_mtu) {
      reported_mtu = true;
      d.add(vp + ".address", "IPv6 inside " + std::string(encap_name(v.encap)) + " to " + ba() +
                                 " needs node.mtu >= " + std::to_string(need_mtu) + " (it is " +
                                 std::to_string(node.mtu) + ")");
    }
  }
}

// Via-VIP probes (bpf/probe_encap.bpf.c) are GRE over IPv4, the default encapsulation; the
// other encapsulations and IPv6 are refused rather than probed some other way.
void check_via_vip(const Vip& v, const std::string& vp, const std::string& pp, Diagnostics& d) {
  if (v.encap != Encap::kGre || !v.address.is_v4())
    d.add(pp + ".check.via_vip", std::string("not supported yet for ") + vip_text(v) + " (" + vp +
                                     "): via-VIP probes are GRE over IPv4 only, this VIP is " +
                                     encap_name(v.encap) + " over IPv" +
                                     (v.address.is_v4() ? "4" : "6"));
}

// Each check runs unless a field it reads already has a problem (its value is a default).
void check_vips(const DaemonConfig& cfg, const std::vector<std::string>& pool_paths,
                Diagnostics& d) {
  std::map<std::string, size_t> names;
  std::map<std::tuple<IpAddress, Protocol, uint16_t>, size_t> services;
  std::vector<std::string> pool_names;
  for (const Pool& p : cfg.pools) pool_names.push_back(p.name);
  for (size_t i = 0; i < cfg.vips.size(); ++i) {
    const Vip& v = cfg.vips[i];
    const std::string vp = "vips[" + std::to_string(i) + "]";
    auto bad = [&](const char* field) { return d.has_problem_under(vp + "." + field); };
    if (d.has_problem_at(vp)) continue;  // not a mapping
    if (!bad("name")) {
      if (v.name.empty()) d.add(vp + ".name", "must not be empty");
      if (auto [it, fresh] = names.emplace(v.name, i); !fresh && !v.name.empty())
        d.add(vp + ".name",
              quoted(v.name) + " is already the name of vips[" + std::to_string(it->second) + "]");
    }
    if (!bad("address") && !bad("protocol") && !bad("port")) {
      auto [it, fresh] = services.emplace(std::tuple(v.address, v.protocol, v.port), i);
      if (!fresh)
        d.add(vp + ".port", vip_text(v) + " is already served by vips[" +
                                std::to_string(it->second) + "] (" +
                                quoted(cfg.vips[it->second].name) + ")");
    }
    if (!bad("table_size") && !is_prime(v.table_size))
      d.add(vp + ".table_size",
            std::to_string(v.table_size) + " is not prime" + prime_hint(v.table_size));
    if (v.pool.empty()) {  // missing or malformed: already reported; else written as ""
      if (!bad("pool")) d.add(vp + ".pool", "must not be empty");
      continue;
    }
    size_t pi = 0;
    while (pi < cfg.pools.size() && cfg.pools[pi].name != v.pool) ++pi;
    if (pi == cfg.pools.size()) {
      if (!bad("pool"))
        d.add(vp + ".pool",
              "no pool is named " + quoted(v.pool) + did_you_mean(v.pool, pool_names));
      continue;
    }
    std::string pp = pi < pool_paths.size() ? pool_paths[pi] : "pools[" + std::to_string(pi) + "]";
    if (!d.has_problem_under(pp + ".backends"))
      check_vip_backends(v, vp, cfg.pools[pi], cfg.node, d);
    if (cfg.pools[pi].check.via_vip && !d.has_problem_under(pp + ".check"))
      check_via_vip(v, vp, pp, d);
  }
}

// LbConfig::validate() is the data plane's last word; our checks should have said it all
// already, so this only fires when they drift apart. Its messages name the service, which
// leads back to the VIP.
void check_lb_config(const DaemonConfig& cfg, Diagnostics& d) {
  RuntimeInputs all_up;
  all_up.unknown_state = BackendState::kUp;
  auto lb = to_lb_config(cfg, all_up);
  if (lb) return;
  std::string msg = lb.error().message;
  size_t start = 0;
  while (start <= msg.size()) {
    size_t end = msg.find("; ", start);
    std::string piece =
        msg.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string path = "node";
    for (size_t i = 0; i < cfg.vips.size(); ++i)
      if (piece.rfind("service " + vip_text(cfg.vips[i]), 0) == 0)
        path = "vips[" + std::to_string(i) + "]";
    d.add(path, piece);
    if (end == std::string::npos) break;
    start = end + 2;
  }
}

}  // namespace

void check_config(const DaemonConfig& cfg, const std::vector<std::string>& pool_paths,
                  Diagnostics& d) {
  check_node(cfg.node, d);
  std::map<std::string, std::string> pool_names;  // name -> where first defined
  for (size_t i = 0; i < cfg.pools.size(); ++i) {
    const std::string pp =
        i < pool_paths.size() ? pool_paths[i] : "pools[" + std::to_string(i) + "]";
    const bool named = pp.rfind("pools[", 0) == 0;
    if (d.has_problem_at(pp)) continue;  // not a mapping
    check_pool(cfg.pools[i], pp, named, d);
    const std::string& name = cfg.pools[i].name;
    if (name.empty() || d.has_problem_under(pp + ".name")) continue;
    if (auto [it, fresh] = pool_names.emplace(name, pp); !fresh) {
      if (named)
        d.add(pp + ".name", quoted(name) + " is already the name of " + it->second);
      else
        d.add(pp, "an inline pool takes its VIP's name, " + quoted(name) + ", which " + it->second +
                      " already has");
    }
  }
  check_vips(cfg, pool_paths, d);
  if (d.empty()) check_lb_config(cfg, d);
}

}  // namespace rail::daemon
