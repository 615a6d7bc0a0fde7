// to_lb_config(): health states, next-hop MACs and node MAC in, the data plane's LbConfig out;
// vip_health().
#include <gtest/gtest.h>

#include "daemon/config/daemon_config.h"
#include "daemon/config/yaml_loader.h"

namespace rail::daemon {
namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}
MacAddress mac(const char* text) {
  return *MacAddress::parse(text);
}

DaemonConfig example() {
  auto r = parse_config(R"(node:
  interfaces: [eth0]
  outer_source_v4: 192.0.2.10
  outer_source_v6: 2001:db8::10
  ingress_addresses: [192.0.2.10]
  mtu: 9000
  gue_port: 6081
  icmp_echo: false
  hash_seed: 7
pools:
  - name: web
    backends:
      - { address: 198.51.100.11, name: web-1 }
      - { address: 198.51.100.12, weight: 3 }
      - { address: 198.51.100.13, weight: 0 }
    check: { type: tcp, port: 80 }
  - name: static
    backends: [2001:db8:200::1]
vips:
  - { name: www, address: 198.18.100.1, port: 80, pool: web, need: 2 }
  - { name: www-any, address: 198.18.100.1, protocol: udp, port: any, pool: web,
      encapsulation: gue, hash: 3-tuple, table_size: 251 }
  - { name: v6, address: 2001:db8:100::1, port: 443, pool: static, hash: source-ip }
)",
                        "t.yaml");
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : DaemonConfig{};
}

TEST(DaemonConfigLb, TranslatesNodeAndServices) {
  RuntimeInputs in;
  in.interface_mac = mac("02:00:00:00:00:aa");
  auto lb = to_lb_config(example(), in);
  ASSERT_TRUE(lb) << lb.error().message;
  EXPECT_EQ(lb->node.mac, mac("02:00:00:00:00:aa"));  // mac: auto
  EXPECT_EQ(lb->node.outer_source_v4, ip("192.0.2.10"));
  EXPECT_EQ(lb->node.ingress_addresses, std::vector<IpAddress>{ip("192.0.2.10")});
  EXPECT_EQ(lb->node.mtu, 9000u);
  EXPECT_EQ(lb->node.gue_port, 6081);
  EXPECT_FALSE(lb->node.icmp_echo);
  EXPECT_EQ(lb->node.hash_seed, 7u);

  ASSERT_EQ(lb->services.size(), 3u);
  const Service& www = lb->services[0];
  EXPECT_EQ(www.vip, ip("198.18.100.1"));
  EXPECT_EQ(www.port, 80);
  EXPECT_EQ(www.protocol, Protocol::kTcp);
  EXPECT_EQ(www.encap, Encap::kGre);
  EXPECT_EQ(www.hash_fields, uint32_t(RAIL_HASH_5TUPLE));
  EXPECT_EQ(www.table_size, 65537u);
  ASSERT_EQ(www.backends.size(), 3u);
  EXPECT_EQ(www.backends[0].identity(), "web-1");
  EXPECT_EQ(www.backends[1].identity(), "198.51.100.12");
  EXPECT_EQ(www.backends[1].weight, 3u);
  EXPECT_TRUE(www.backends[0].next_hop_mac.is_zero());  // no resolver: unresolved

  const Service& any = lb->services[1];
  EXPECT_EQ(any.port, 0);
  EXPECT_EQ(any.protocol, Protocol::kUdp);
  EXPECT_EQ(any.encap, Encap::kGue);
  EXPECT_EQ(any.hash_fields, uint32_t(RAIL_HASH_3TUPLE));
  EXPECT_EQ(any.table_size, 251u);
  EXPECT_EQ(lb->services[2].hash_fields, uint32_t(RAIL_HASH_SRC_AFFINITY));
}

TEST(DaemonConfigLb, ExplicitNodeMacWins) {
  DaemonConfig c = example();
  c.node.mac = mac("02:00:00:00:00:01");
  RuntimeInputs in;
  in.interface_mac = mac("02:00:00:00:00:aa");
  EXPECT_EQ(to_lb_config(c, in)->node.mac, mac("02:00:00:00:00:01"));
}

TEST(DaemonConfigLb, HealthStatesPerPoolAndBackend) {
  HealthStates states = {
      {{"web", ip("198.51.100.11")}, BackendState::kUp},
      {{"web", ip("198.51.100.12")}, BackendState::kDrained},
      // 198.51.100.13 unknown; "static" has no check: always up.
      {{"static", ip("2001:db8:200::1")}, BackendState::kDown},
  };
  RuntimeInputs in;
  in.health = &states;
  auto lb = to_lb_config(example(), in);
  ASSERT_TRUE(lb) << lb.error().message;
  const auto& web = lb->services[0].backends;
  EXPECT_EQ(web[0].state, BackendState::kUp);
  EXPECT_EQ(web[1].state, BackendState::kDrained);
  EXPECT_EQ(web[2].state, BackendState::kDown);                     // unknown_state default
  EXPECT_EQ(lb->services[1].backends[0].state, BackendState::kUp);  // same pool, same state
  EXPECT_EQ(lb->services[2].backends[0].state, BackendState::kUp);  // type none ignores states

  in.unknown_state = BackendState::kUp;
  EXPECT_EQ(to_lb_config(example(), in)->services[0].backends[2].state, BackendState::kUp);
}

TEST(DaemonConfigLb, NextHopMacsFromResolver) {
  RuntimeInputs in;
  in.next_hop_mac = [](const IpAddress& a) -> std::optional<MacAddress> {
    if (a == ip("198.51.100.11")) return mac("02:00:00:00:01:11");
    return std::nullopt;
  };
  auto lb = to_lb_config(example(), in);
  ASSERT_TRUE(lb);
  EXPECT_EQ(lb->services[0].backends[0].next_hop_mac, mac("02:00:00:00:01:11"));
  EXPECT_TRUE(lb->services[0].backends[1].next_hop_mac.is_zero());
}

TEST(DaemonConfigLb, VipHealthCountsUsableBackendsAgainstNeed) {
  HealthStates states = {
      {{"web", ip("198.51.100.11")}, BackendState::kUp},
      {{"web", ip("198.51.100.12")}, BackendState::kUp},
      {{"web", ip("198.51.100.13")}, BackendState::kUp},  // weight 0: does not count
  };
  RuntimeInputs in;
  in.health = &states;
  auto h = vip_health(example(), in);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].vip, "www");
  EXPECT_EQ(h[0].up, 2u);
  EXPECT_TRUE(h[0].healthy());
  states[{"web", ip("198.51.100.12")}] = BackendState::kDown;
  h = vip_health(example(), in);
  EXPECT_EQ(h[0].up, 1u);
  EXPECT_FALSE(h[0].healthy());  // need: 2
  EXPECT_TRUE(h[1].healthy());   // need: 1 (default)
  EXPECT_TRUE(h[2].healthy());   // unchecked pool
}

TEST(DaemonConfigLb, HandBuiltConfigErrors) {
  DaemonConfig c = example();
  c.vips[0].pool = "missing";
  auto lb = to_lb_config(c, {});
  ASSERT_FALSE(lb);
  EXPECT_EQ(lb.error().code, ErrorCode::kNotFound);
  c = example();
  c.vips[0].table_size = 100;  // validate() still guards the data plane
  lb = to_lb_config(c, {});
  ASSERT_FALSE(lb);
  EXPECT_NE(lb.error().message.find("table size 100 is not prime"), std::string::npos);
}

}  // namespace
}  // namespace rail::daemon
