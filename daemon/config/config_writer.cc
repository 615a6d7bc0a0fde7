// to_yaml(): emits a DaemonConfig in the rail.yaml schema with all defaults written out.
#include "daemon/config/config_writer.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>

#include "daemon/config/values.h"

namespace rail::daemon {
namespace {

void emit_check(YAML::Emitter& e, const HealthCheck& c) {
  e << YAML::Key << "check" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "type" << YAML::Value << to_string(c.type);
  if (c.type != CheckType::kNone) {
    e << YAML::Key << "port" << YAML::Value << c.port;
    if (c.type == CheckType::kHttp || c.type == CheckType::kHttps) {
      e << YAML::Key << "path" << YAML::Value << c.path;
      if (!c.host.empty()) e << YAML::Key << "host" << YAML::Value << c.host;
      e << YAML::Key << "expect" << YAML::Value << c.expect;
    }
    if (c.type == CheckType::kHttps) e << YAML::Key << "tls_verify" << YAML::Value << c.tls_verify;
    e << YAML::Key << "interval" << YAML::Value << format_duration(c.interval);
    e << YAML::Key << "timeout" << YAML::Value << format_duration(c.timeout);
    e << YAML::Key << "rise" << YAML::Value << c.rise;
    e << YAML::Key << "fall" << YAML::Value << c.fall;
    e << YAML::Key << "via_vip" << YAML::Value << c.via_vip;
  }
  e << YAML::EndMap;
}

void emit_node(YAML::Emitter& e, const NodeConfig& n) {
  e << YAML::Key << "node" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "interfaces" << YAML::Value << YAML::Flow << n.interfaces;
  e << YAML::Key << "xdp_mode" << YAML::Value << to_string(n.xdp_mode);
  e << YAML::Key << "mac" << YAML::Value << (n.mac ? n.mac->to_string() : "auto");
  if (n.outer_source_v4)
    e << YAML::Key << "outer_source_v4" << YAML::Value << n.outer_source_v4->to_string();
  if (n.outer_source_v6)
    e << YAML::Key << "outer_source_v6" << YAML::Value << n.outer_source_v6->to_string();
  e << YAML::Key << "ingress_addresses" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const IpAddress& a : n.ingress_addresses) e << a.to_string();
  e << YAML::EndSeq;
  e << YAML::Key << "mtu" << YAML::Value << n.mtu;
  e << YAML::Key << "gue_port" << YAML::Value << n.gue_port;
  e << YAML::Key << "icmp_echo" << YAML::Value << n.icmp_echo;
  e << YAML::Key << "passive_icmp" << YAML::Value << n.passive_icmp;
  char seed[16];
  std::snprintf(seed, sizeof seed, "0x%08x", n.hash_seed);
  e << YAML::Key << "hash_seed" << YAML::Value << seed;
  e << YAML::Key << "api" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "listen" << YAML::Value << format_listen(n.api_listen);
  if (!n.api_token_file.empty()) e << YAML::Key << "token_file" << YAML::Value << n.api_token_file;
  e << YAML::EndMap;
  e << YAML::Key << "bpffs_dir" << YAML::Value << n.bpffs_dir;
  e << YAML::Key << "state_file" << YAML::Value << n.state_file;
  e << YAML::EndMap;
}

}  // namespace

std::string to_yaml(const DaemonConfig& c) {
  YAML::Emitter e;
  e.SetBoolFormat(YAML::TrueFalseBool);
  e << YAML::BeginMap;
  emit_node(e, c.node);
  e << YAML::Key << "pools" << YAML::Value << YAML::BeginSeq;
  for (const Pool& p : c.pools) {
    e << YAML::BeginMap << YAML::Key << "name" << YAML::Value << p.name;
    e << YAML::Key << "backends" << YAML::Value << YAML::BeginSeq;
    for (const PoolBackend& b : p.backends) {
      e << YAML::Flow << YAML::BeginMap;
      e << YAML::Key << "address" << YAML::Value << b.address.to_string();
      e << YAML::Key << "weight" << YAML::Value << b.weight;
      if (!b.name.empty()) e << YAML::Key << "name" << YAML::Value << b.name;
      e << YAML::EndMap;
    }
    e << YAML::EndSeq;
    emit_check(e, p.check);
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  e << YAML::Key << "vips" << YAML::Value << YAML::BeginSeq;
  for (const Vip& v : c.vips) {
    e << YAML::BeginMap;
    e << YAML::Key << "name" << YAML::Value << v.name;
    e << YAML::Key << "address" << YAML::Value << v.address.to_string();
    e << YAML::Key << "protocol" << YAML::Value << (v.protocol == Protocol::kTcp ? "tcp" : "udp");
    if (v.port)
      e << YAML::Key << "port" << YAML::Value << v.port;
    else
      e << YAML::Key << "port" << YAML::Value << "any";
    e << YAML::Key << "encapsulation" << YAML::Value << encap_to_string(v.encap);
    e << YAML::Key << "hash" << YAML::Value << to_string(v.hash);
    e << YAML::Key << "table_size" << YAML::Value << v.table_size;
    e << YAML::Key << "pool" << YAML::Value << v.pool;
    e << YAML::Key << "need" << YAML::Value << v.need;
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace rail::daemon
