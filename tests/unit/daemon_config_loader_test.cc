// rail.yaml loading: the example, defaults, durations, pool references and inline pools, writer
// round trip.
#include <gtest/gtest.h>

#include "daemon/config/config_writer.h"
#include "daemon/config/values.h"
#include "daemon/config/yaml_loader.h"
#include "daemon_config_minimal.h"

namespace rail::daemon {
namespace {

DaemonConfig parse_ok(const std::string& text) {
  auto r = parse_config(text, "t.yaml");
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : DaemonConfig{};
}

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

TEST(DaemonConfigLoader, Defaults) {
  DaemonConfig c = parse_ok(kMinimal);
  const NodeConfig& n = c.node;
  EXPECT_EQ(n.interfaces, std::vector<std::string>{"eth0"});
  EXPECT_EQ(n.xdp_mode, XdpMode::kAuto);
  EXPECT_FALSE(n.mac);  // auto
  EXPECT_FALSE(n.outer_source_v6);
  EXPECT_EQ(n.mtu, 1500u);
  EXPECT_EQ(n.gue_port, 6080);
  EXPECT_TRUE(n.icmp_echo);
  EXPECT_EQ(n.hash_seed, uint32_t(RAIL_DEFAULT_HASH_SEED));
  EXPECT_EQ(format_listen(n.api_listen), "127.0.0.1:9180");  // declared in values.h
  EXPECT_EQ(n.api_token_file, "");
  EXPECT_EQ(n.bpffs_dir, "/sys/fs/bpf/rail");
  EXPECT_EQ(n.state_file, "/var/lib/rail/running.yaml");

  ASSERT_EQ(c.pools.size(), 1u);
  EXPECT_EQ(c.pools[0].backends[0].weight, 1u);
  EXPECT_EQ(c.pools[0].backends[0].name, "");
  EXPECT_EQ(c.pools[0].check.type, CheckType::kNone);

  ASSERT_EQ(c.vips.size(), 1u);
  const Vip& v = c.vips[0];
  EXPECT_EQ(v.protocol, Protocol::kTcp);
  EXPECT_EQ(v.encap, Encap::kGre);
  EXPECT_EQ(v.hash, HashMode::kFiveTuple);
  EXPECT_EQ(v.table_size, 65537u);
  EXPECT_EQ(v.need, 1u);
  EXPECT_EQ(v.pool, "web");
}

TEST(DaemonConfigLoader, CheckDefaultsAndDurations) {
  DaemonConfig c = parse_ok(std::string(kMinimal) + R"(  - name: api
    address: 198.18.100.2
    port: 443
    pool:
      backends: [198.51.100.21]
      check: { type: https, interval: 1500ms, timeout: 1s, tls_verify: true, host: api.example.com }
)");
  const Pool* p = c.find_pool("api");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->check.type, CheckType::kHttps);
  EXPECT_EQ(p->check.port, 443);  // https default
  EXPECT_EQ(p->check.path, "/");
  EXPECT_EQ(p->check.expect, 200);
  EXPECT_EQ(p->check.interval, Millis(1500));
  EXPECT_EQ(p->check.timeout, Millis(1000));
  EXPECT_EQ(p->check.rise, 2u);
  EXPECT_EQ(p->check.fall, 3u);
  EXPECT_TRUE(p->check.tls_verify);
  EXPECT_FALSE(p->check.via_vip);
  EXPECT_EQ(p->check.host, "api.example.com");
}

TEST(DaemonConfigLoader, InlinePoolIsHoistedUnderTheVipName) {
  DaemonConfig c = parse_ok(std::string(kMinimal) + R"(  - name: dns
    address: 2001:db8:100::53
    protocol: udp
    port: any
    encapsulation: l2
    hash: source-ip
    table_size: 251
    need: 0
    pool:
      backends:
        - 2001:db8:200::1
        - { address: 2001:db8:200::2, weight: 3, name: dns-b }
)");
  ASSERT_EQ(c.pools.size(), 2u);
  EXPECT_EQ(c.pools[1].name, "dns");
  EXPECT_EQ(c.vips[1].pool, "dns");
  EXPECT_EQ(c.vips[1].port, 0);
  EXPECT_EQ(c.vips[1].protocol, Protocol::kUdp);
  EXPECT_EQ(c.vips[1].encap, Encap::kL2);
  EXPECT_EQ(c.vips[1].hash, HashMode::kSourceIp);
  EXPECT_EQ(c.vips[1].table_size, 251u);
  EXPECT_EQ(c.vips[1].need, 0u);
  EXPECT_EQ(c.pools[1].backends[0].address, ip("2001:db8:200::1"));
  EXPECT_EQ(c.pools[1].backends[1].weight, 3u);
  EXPECT_EQ(c.pools[1].backends[1].name, "dns-b");
}

TEST(DaemonConfigLoader, SharedPoolByReference) {
  DaemonConfig c = parse_ok(std::string(kMinimal) + R"(  - name: www-alt
    address: 198.18.100.1
    port: 8080
    pool: web
)");
  EXPECT_EQ(c.pools.size(), 1u);
  EXPECT_EQ(c.vips[0].pool, c.vips[1].pool);
}

TEST(DaemonConfigLoader, NodeSettings) {
  DaemonConfig c = parse_ok(R"(node:
  interfaces: [eth0, eth1]
  xdp_mode: native
  mac: 02:00:00:00:00:01
  outer_source_v4: 192.0.2.10
  outer_source_v6: 2001:db8::10
  ingress_addresses: [192.0.2.10, 2001:db8::10]
  mtu: 9000
  gue_port: 6081
  icmp_echo: false
  passive_icmp: false
  hash_seed: 42
  api: { listen: "[::1]:9999", token_file: /etc/rail/token }
  bpffs_dir: /sys/fs/bpf/rail-test
  state_file: /tmp/rail-state.yaml
)");
  const NodeConfig& n = c.node;
  EXPECT_EQ(n.interfaces.size(), 2u);
  EXPECT_EQ(n.xdp_mode, XdpMode::kNative);
  ASSERT_TRUE(n.mac);
  EXPECT_EQ(n.mac->to_string(), "02:00:00:00:00:01");
  EXPECT_EQ(n.ingress_addresses.size(), 2u);
  EXPECT_EQ(n.mtu, 9000u);
  EXPECT_EQ(n.gue_port, 6081);
  EXPECT_FALSE(n.icmp_echo);
  EXPECT_FALSE(n.passive_icmp);
  EXPECT_EQ(n.hash_seed, 42u);
  EXPECT_EQ(n.api_listen.port, 9999);
  EXPECT_TRUE(n.api_listen.address.is_v6());
  EXPECT_EQ(n.api_token_file, "/etc/rail/token");
  EXPECT_EQ(n.bpffs_dir, "/sys/fs/bpf/rail-test");
  EXPECT_EQ(n.state_file, "/tmp/rail-state.yaml");
  EXPECT_TRUE(c.vips.empty());
}

TEST(DaemonConfigLoader, ExampleLoads) {
  auto r = load_config_file(RAIL_EXAMPLES_DIR "/rail.yaml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->vips.size(), 2u);
  EXPECT_TRUE(r->vips[0].address.is_v4());
  EXPECT_TRUE(r->vips[1].address.is_v6());
  ASSERT_EQ(r->pools.size(), 2u);
  EXPECT_EQ(r->pools[0].check.type, CheckType::kHttp);
  EXPECT_EQ(r->pools[0].check.timeout, Millis(500));
  EXPECT_EQ(r->pools[1].check.type, CheckType::kUdp);
  EXPECT_FALSE(r->pools[1].check.via_vip);
}

// via_vip: GRE over IPv4 VIPs only (bpf/probe_encap.bpf.c); other encapsulations are refused
// at the check's position rather than probed some other way.
TEST(DaemonConfigLoader, ViaVipNeedsGreOverIpv4) {
  const std::string vip = std::string(kMinimal) + R"(  - name: api
    address: 198.18.100.2
    port: 443
)";
  const std::string pool = R"(    pool:
      backends: [198.51.100.21]
      check: { type: tcp, port: 443, via_vip: true }
)";
  auto gre = parse_config(vip + pool, "t.yaml");
  ASSERT_TRUE(gre) << gre.error().message;
  EXPECT_TRUE(gre->pools[1].check.via_vip);
  auto ipip = parse_config(vip + "    encapsulation: ipip\n" + pool, "t.yaml");
  ASSERT_FALSE(ipip);
  EXPECT_NE(ipip.error().message.find("t.yaml:20:47: vips[1].pool.check.via_vip: not supported yet "
                                      "for 198.18.100.2:443/tcp (vips[1]): via-VIP probes are GRE "
                                      "over IPv4 only, this VIP is ipip over IPv4"),
            std::string::npos)
      << ipip.error().message;
  EXPECT_TRUE(parse_config(std::string(kMinimal), "t.yaml")->node.passive_icmp);  // default on
}

TEST(DaemonConfigLoader, WriterRoundTrip) {
  auto r = load_config_file(RAIL_EXAMPLES_DIR "/rail.yaml");
  ASSERT_TRUE(r) << r.error().message;
  std::string text = to_yaml(*r);
  auto back = parse_config(text, "written");
  ASSERT_TRUE(back) << back.error().message << "\n" << text;
  EXPECT_EQ(*back, *r);
  EXPECT_EQ(to_yaml(*back), text);  // stable: a second save writes the same bytes
}

TEST(DaemonConfigLoader, MissingFileIsNotFound) {
  auto r = load_config_file("/nonexistent/rail.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "/nonexistent/rail.yaml: cannot open: No such file or directory");
}

}  // namespace
}  // namespace rail::daemon
