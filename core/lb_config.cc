// LbConfig::validate(): the checks every data plane relies on (docs/packet-path.md).
#include "core/lb_config.h"

#include <set>
#include <tuple>

#include "core/backend_identity.h"
#include "core/forwarder/encap.h"
#include "core/maglev/maglev_table.h"

namespace rail {

const char* encap_name(Encap e) {
  switch (e) {
    case Encap::kGre:
      return "gre";
    case Encap::kIpip:
      return "ipip";
    case Encap::kGue:
      return "gue";
    case Encap::kL2:
      return "l2";
  }
  return "?";
}

Status LbConfig::validate() const {
  std::string problems;
  auto problem = [&](const std::string& what) {
    if (!problems.empty()) problems += "; ";
    problems += what;
  };
  if (node.mtu < 576 || node.mtu > 9216)
    problem("node mtu " + std::to_string(node.mtu) + " is outside 576..9216");
  if (node.gue_port == 0) problem("node gue_port must not be 0");

  std::set<std::tuple<IpAddress, Protocol, uint16_t>> seen;
  for (const Service& s : services) {
    const std::string vip = s.vip.is_v6() ? "[" + s.vip.to_string() + "]" : s.vip.to_string();
    std::string where = "service " + vip + ":" +
                        (s.port ? std::to_string(s.port) : std::string("any")) +
                        (s.protocol == Protocol::kTcp ? "/tcp" : "/udp");
    if (!seen.insert({s.vip, s.protocol, s.port}).second) problem(where + " is defined twice");
    if (!is_prime(s.table_size))
      problem(where + ": table size " + std::to_string(s.table_size) + " is not prime");
    if (s.hash_fields == 0 || (s.hash_fields & ~uint32_t(RAIL_HASH_5TUPLE)))
      problem(where + ": hash fields must be a non-empty subset of the 5-tuple");
    std::vector<bool> repeated(s.backends.size());
    for (const DuplicateIdentity& d : duplicate_identities(s.backends)) repeated[d.later] = true;
    for (size_t i = 0; i < s.backends.size(); ++i) {
      const Backend& b = s.backends[i];
      if (repeated[i]) problem(where + ": backend identity '" + b.identity() + "' appears twice");
      if (s.encap == Encap::kL2 && b.address.family() != s.vip.family())
        problem(where + ": l2 encapsulation needs backend " + b.address.to_string() +
                " in the VIP's address family");
      if (s.encap != Encap::kL2) {
        if (b.address.is_v4() && !node.outer_source_v4)
          problem(where + ": backend " + b.address.to_string() +
                  " is IPv4 but the node has no outer_source_v4");
        if (b.address.is_v6() && !node.outer_source_v6)
          problem(where + ": backend " + b.address.to_string() +
                  " is IPv6 but the node has no outer_source_v6");
      }
      if (s.vip.is_v6() && node.mtu < 1280 + encap_overhead(s.encap, b.address.is_v6()))
        problem(where + ": mtu " + std::to_string(node.mtu) +
                " leaves less than 1280 bytes for IPv6 inside " + encap_name(s.encap) + " to " +
                b.address.to_string());
    }
  }
  if (!problems.empty()) return make_error(ErrorCode::kInvalidArgument, problems);
  return ok();
}

}  // namespace rail
