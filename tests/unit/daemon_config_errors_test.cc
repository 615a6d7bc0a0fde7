// rail.yaml errors: every kind of problem, each with FILE:LINE:COLUMN and the field path.
#include <gtest/gtest.h>

#include <sstream>

#include "daemon/config/yaml_loader.h"
#include "daemon_config_minimal.h"

namespace rail::daemon {
namespace {

std::string edit(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::vector<std::string> errors_of(const std::string& text) {
  auto r = parse_config(text, "t.yaml");
  std::vector<std::string> lines;
  if (r) return lines;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  std::istringstream in(r.error().message);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

using Lines = std::vector<std::string>;

TEST(DaemonConfigErrors, MinimalIsValid) {
  EXPECT_EQ(errors_of(kMinimal), Lines{});
}

TEST(DaemonConfigErrors, UnknownKeysWithSuggestions) {
  EXPECT_EQ(errors_of(edit(kMinimal, "  outer_source_v4", "  mtus: 9000\n  outer_source_v4")),
            Lines{"t.yaml:3:3: node.mtus: unknown key (did you mean \"mtu\"?)"});
  EXPECT_EQ(errors_of(edit(kMinimal, "    port: 80", "    prot: 80\n    port: 80")),
            Lines{"t.yaml:12:5: vips[0].prot: unknown key (did you mean \"port\"?)"});
  EXPECT_EQ(errors_of(std::string(kMinimal) + "colour: blue\n"),
            Lines{"t.yaml:14:1: colour: unknown key"});
}

TEST(DaemonConfigErrors, DuplicateKey) {
  EXPECT_EQ(errors_of(edit(kMinimal, "    port: 80", "    port: 80\n    port: 81")),
            Lines{"t.yaml:13:5: vips[0].port: appears twice in this mapping (first on line 12)"});
}

TEST(DaemonConfigErrors, TypeErrors) {
  EXPECT_EQ(errors_of(edit(kMinimal, "[eth0]", "eth0")),
            Lines{"t.yaml:2:15: node.interfaces: expected a list, found a value"});
  EXPECT_EQ(errors_of(edit(kMinimal, "port: 80", "port: [80, 81]")),
            Lines{"t.yaml:12:11: vips[0].port: expected a port or \"any\", found a list"});
  EXPECT_EQ(errors_of(edit(kMinimal, "pools:\n", "pools:\n  - 3\n")),
            Lines{"t.yaml:5:5: pools[0]: expected a mapping, found a value"});
  EXPECT_EQ(errors_of("- a\n- b\n"), Lines{"t.yaml:1:1: expected a mapping, found a list"});
}

TEST(DaemonConfigErrors, MissingRequired) {
  EXPECT_EQ(errors_of(edit(kMinimal, "    address: 198.18.100.1\n", "")),
            Lines{"t.yaml:10:5: vips[0].address: missing (required)"});
  EXPECT_EQ(errors_of("pools: []\n"), Lines{"t.yaml:1:1: node: missing (required)"});
  EXPECT_EQ(errors_of(edit(kMinimal, "  interfaces: [eth0]\n", "")),
            Lines{"t.yaml:2:3: node.interfaces: missing (required)"});
  EXPECT_EQ(errors_of(edit(kMinimal, "[eth0]", "[]")),
            Lines{"t.yaml:2:15: node.interfaces: at least one interface is needed"});
}

TEST(DaemonConfigErrors, BadValues) {
  EXPECT_EQ(errors_of(edit(kMinimal, "port: 80", "port: 70000")),
            Lines{"t.yaml:12:11: vips[0].port: 70000 is not a port (0..65535 or \"any\")"});
  EXPECT_EQ(errors_of(edit(kMinimal, "198.51.100.12", "198.51.100.1200")),
            Lines{"t.yaml:8:18: pools[0].backends[1].address: \"198.51.100.1200\" is not an "
                  "IPv4 or IPv6 address"});
  EXPECT_EQ(errors_of(edit(kMinimal, "192.0.2.10", "2001:db8::1")),
            Lines{"t.yaml:3:20: node.outer_source_v4: 2001:db8::1 is not an IPv4 address"});
  EXPECT_EQ(errors_of(edit(kMinimal, "[eth0]", "[eth0]\n  mtu: 100")),
            Lines{"t.yaml:3:8: node.mtu: 100 is outside 576..9216"});
  EXPECT_EQ(errors_of(edit(kMinimal, "port: 80", "port: 80\n    encapsulation: gree")),
            Lines{"t.yaml:13:20: vips[0].encapsulation: \"gree\" is not one of gre, ipip, gue "
                  "or l2 (did you mean \"gre\"?)"});
  EXPECT_EQ(errors_of(edit(kMinimal, "[eth0]", "[eth0]\n  mac: 02:00:00")),
            Lines{"t.yaml:3:8: node.mac: \"02:00:00\" is not \"auto\" or a MAC address like "
                  "02:00:00:00:00:01"});
  EXPECT_EQ(errors_of(edit(kMinimal, "[eth0]", "[eth0]\n  state_file: running.yaml")),
            Lines{"t.yaml:3:15: node.state_file: \"running.yaml\" is not an absolute path"});
  EXPECT_EQ(errors_of(edit(kMinimal, "[eth0]", "[eth0]\n  api: { listen: 9180 }")),
            Lines{"t.yaml:3:18: node.api.listen: \"9180\" is not ADDRESS:PORT (e.g. "
                  "\"127.0.0.1:9180\", \"[::1]:9180\")"});
  EXPECT_EQ(errors_of(edit(kMinimal, "[eth0]", "[eth0, eth0]")),
            Lines{"t.yaml:2:22: node.interfaces[1]: \"eth0\" is listed twice"});
}

TEST(DaemonConfigErrors, Checks) {
  auto with_check = [](const std::string& check) {
    return edit(kMinimal, "    backends:", "    check: " + check + "\n    backends:");
  };
  EXPECT_EQ(errors_of(with_check("{ type: tcp }")),
            Lines{"t.yaml:6:12: pools[0].check.port: missing (required)"});
  EXPECT_EQ(errors_of(with_check("{ type: tcp, port: 80, interval: 5 }")),
            Lines{"t.yaml:6:45: pools[0].check.interval: 5 needs a unit: \"5ms\" or \"5s\""});
  EXPECT_EQ(errors_of(with_check("{ type: tcp, port: 80, path: /x }")),
            Lines{"t.yaml:6:41: pools[0].check.path: only applies to http and https checks "
                  "(this one is tcp)"});
  EXPECT_EQ(errors_of(with_check("{ type: http, tls_verify: true }")),
            Lines{"t.yaml:6:38: pools[0].check.tls_verify: only applies to https checks (this "
                  "one is http)"});
  EXPECT_EQ(errors_of(with_check("{ type: http, timeout: 3s }")),
            Lines{"t.yaml:6:35: pools[0].check.timeout: 3s is longer than the interval (2s)"});
  EXPECT_EQ(errors_of(with_check("{ type: ping }")),
            Lines{"t.yaml:6:20: pools[0].check.type: \"ping\" is not one of tcp, http, https, "
                  "udp or none"});
}

TEST(DaemonConfigErrors, NamesAndReferences) {
  EXPECT_EQ(errors_of(edit(kMinimal, "pool: web", "pool: wbe")),
            Lines{"t.yaml:13:11: vips[0].pool: no pool is named \"wbe\" (did you mean "
                  "\"web\"?)"});
  EXPECT_EQ(errors_of(std::string(kMinimal) + "  - { name: www, address: 198.18.100.2, port: "
                                              "80, pool: web }\n"),
            Lines{"t.yaml:14:13: vips[1].name: \"www\" is already the name of vips[0]"});
  EXPECT_EQ(errors_of(std::string(kMinimal) + "  - { name: www2, address: 198.18.100.1, port: "
                                              "80, pool: web }\n"),
            Lines{"t.yaml:14:48: vips[1].port: 198.18.100.1:80/tcp is already served by "
                  "vips[0] (\"www\")"});
  EXPECT_EQ(
      errors_of(edit(kMinimal, "vips:", "  - { name: web, backends: [198.51.100.13] }\nvips:")),
      Lines{"t.yaml:9:13: pools[1].name: \"web\" is already the name of pools[0]"});
  EXPECT_EQ(errors_of(edit(edit(kMinimal, "- name: www", "- name: web"), "pool: web",
                           "pool: { backends: [198.51.100.9] }")),
            Lines{"t.yaml:13:11: vips[0].pool: an inline pool takes its VIP's name, \"web\", "
                  "which pools[0] already has"});
  EXPECT_EQ(errors_of(edit(kMinimal, "198.51.100.12", "198.51.100.11")),
            Lines{"t.yaml:8:18: pools[0].backends[1].address: 198.51.100.11 is already "
                  "backends[0] of this pool"});
  // A name is the Maglev identity; one spelled as another backend's address takes its place.
  EXPECT_EQ(errors_of(edit(kMinimal, "- address: 198.51.100.12",
                           "- { address: 198.51.100.12, name: 198.51.100.11 }")),
            Lines{"t.yaml:8:41: pools[0].backends[1].name: identity \"198.51.100.11\" is already "
                  "used by backends[0] of this pool"});
}

TEST(DaemonConfigErrors, CountsAndTableSizes) {
  EXPECT_EQ(errors_of(edit(kMinimal, "pool: web", "pool: web\n    need: 3")),
            Lines{"t.yaml:14:11: vips[0].need: 3 healthy backends needed but pool \"web\" has "
                  "only 2"});
  EXPECT_EQ(errors_of(edit(kMinimal, "pool: web", "pool: web\n    table_size: 65536")),
            Lines{"t.yaml:14:17: vips[0].table_size: 65536 is not prime (nearest primes: 65521, "
                  "65537)"});
  EXPECT_EQ(errors_of(edit(kMinimal, "pool: web", "pool: web\n    table_size: 2")),
            Lines{"t.yaml:14:17: vips[0].table_size: 2 must be larger than the 2 backends "
                  "(ideally 100 times larger)"});
  EXPECT_EQ(errors_of(edit(kMinimal, "pool: web", "pool: web\n    table_size: 100000000")),
            Lines{"t.yaml:14:17: vips[0].table_size: 100000000 is outside 2..67108864"});
}

TEST(DaemonConfigErrors, FamiliesAndMtu) {
  EXPECT_EQ(errors_of(edit(kMinimal, "198.51.100.12", "2001:db8::12")),
            Lines{"t.yaml:13:11: vips[0].pool: backend 2001:db8::12 is IPv6 but "
                  "node.outer_source_v6 is not set (gre needs an outer source)"});
  EXPECT_EQ(errors_of(edit(kMinimal, "  outer_source_v4: 192.0.2.10\n", "")),
            Lines{"t.yaml:12:11: vips[0].pool: backend 198.51.100.11 is IPv4 but "
                  "node.outer_source_v4 is not set (gre needs an outer source)"});
  EXPECT_EQ(errors_of(edit(kMinimal, "address: 198.18.100.1",
                           "address: 2001:db8:100::1\n    "
                           "encapsulation: l2")),
            Lines{"t.yaml:12:20: vips[0].encapsulation: l2 needs backends in the VIP's address "
                  "family; 198.51.100.11 (pool \"web\") is not"});
  EXPECT_EQ(errors_of(edit(edit(kMinimal, "[eth0]", "[eth0]\n  mtu: 1300"), "198.18.100.1",
                           "2001:db8:100::1")),
            Lines{"t.yaml:12:14: vips[0].address: IPv6 inside gre to 198.51.100.11 needs "
                  "node.mtu >= 1304 (it is 1300)"});
}

TEST(DaemonConfigErrors, EmptyValuesPointAtTheirKey) {
  EXPECT_EQ(errors_of(edit(kMinimal, "port: 80", "port:")),
            Lines{"t.yaml:12:5: vips[0].port: expected a port or \"any\", found nothing"});
  EXPECT_EQ(errors_of(edit(kMinimal, "pool: web", "pool: \"\"")),
            Lines{"t.yaml:13:11: vips[0].pool: must not be empty"});
  EXPECT_EQ(errors_of(edit(kMinimal, "- name: www", "- name: \"\"")),
            Lines{"t.yaml:10:11: vips[0].name: must not be empty"});
}

TEST(DaemonConfigErrors, SyntaxAndEmpty) {
  auto lines = errors_of("node:\n  interfaces: [eth0\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("t.yaml:3:1: YAML syntax: ", 0), 0u) << lines[0];
  EXPECT_EQ(errors_of(""), Lines{"t.yaml: the configuration is empty (expected node, pools and "
                                 "vips)"});
}

TEST(DaemonConfigErrors, BadExampleListsEveryProblemInFileOrder) {
  auto r = load_config_file(RAIL_EXAMPLES_DIR "/bad.yaml");
  ASSERT_FALSE(r);
  std::string f = std::string(RAIL_EXAMPLES_DIR) + "/bad.yaml:";
  std::istringstream in(r.error().message);
  Lines got;
  for (std::string line; std::getline(in, line);) got.push_back(line.substr(f.size()));
  Lines want = {
      "5:3: node.mtus: unknown key (did you mean \"mtu\"?)",
      "6:20: node.outer_source_v4: 2001:db8::1 is not an IPv4 address",
      "7:14: node.hash_seed: \"-1\" is not a whole number",
      "12:18: pools[0].backends[0].address: \"198.51.100.300\" is not an IPv4 or IPv6 address",
      "13:43: pools[0].backends[1].weight: \"many\" is not a whole number",
      "17:13: pools[0].check.path: only applies to http and https checks (this one is tcp)",
      "18:17: pools[0].check.interval: 2 needs a unit: \"2ms\" or \"2s\"",
      "19:11: pools[1].name: \"web\" is already the name of pools[0]",
      "25:11: vips[0].port: 70000 is not a port (0..65535 or \"any\")",
      "29:15: vips[1].protocol: \"sctp\" is not one of tcp or udp",
      "31:17: vips[1].table_size: 65536 is not prime (nearest primes: 65521, 65537)",
      "32:11: vips[1].pool: no pool is named \"wbe\" (did you mean \"web\"?)",
      "33:11: vips[2].name: \"api\" is already the name of vips[1]",
      "36:20: vips[2].encapsulation: \"vxlan\" is not one of gre, ipip, gue or l2",
      "41:11: vips[3].need: 3 healthy backends needed but pool \"cache\" has only 2",
      "43:7: vips[3].pool: backend 2001:db8::31 is IPv6 but node.outer_source_v6 is not set "
      "(gre needs an outer source)",
      "44:49: vips[3].pool.check.timeout: 5s is longer than the interval (2s)",
  };
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace rail::daemon
