// to_yaml() (the hand-written state-file writer) round trips: what it writes loads back equal,
// for names and paths a YAML parser could misread if they were written plain.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/config/config_writer.h"
#include "daemon/config/yaml_loader.h"

namespace rail::daemon {
namespace {

DaemonConfig example() {
  auto r = load_config_file(RAIL_EXAMPLES_DIR "/rail.yaml");
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : DaemonConfig{};
}

// Writes `c`, loads it back, and expects the same config and the same bytes on a second write.
void expect_round_trip(const DaemonConfig& c) {
  const std::string text = to_yaml(c);
  auto back = parse_config(text, "written");
  ASSERT_TRUE(back) << back.error().message << "\n" << text;
  EXPECT_EQ(*back, c) << text;
  EXPECT_EQ(to_yaml(*back), text);
}

IpAddress ip(const char* text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a) << text;
  return a ? *a : IpAddress{};
}

TEST(ConfigWriterRoundTrip, Example) {
  expect_round_trip(example());
}

TEST(ConfigWriterRoundTrip, StringsAParserCouldMisread) {
  const std::vector<std::string> names = {
      "null",     "true",       "no",          "~",      "y",    "-dash", "a: b",   "x #y",
      "'single'", "\"double\"", "back\\slash", "123",    "0x10", "1.5",   "[seq]",  "{map}",
      "a,b",      "*alias",     "&anchor",     "!tag",   "%pct", "@at",   "`tick`", "trail:",
      ":lead",    "tab\there",  "ünïcödé",     "sp ace", "a::b", "?q"};
  for (const std::string& n : names) {
    SCOPED_TRACE(n);
    DaemonConfig c = example();
    ASSERT_GE(c.pools.size(), 1u);
    ASSERT_GE(c.pools[0].backends.size(), 1u);
    c.pools[0].backends[0].name = n;
    c.pools[0].check.path = "/" + n;
    c.pools[0].check.host = n;
    c.vips[0].name = n;
    c.node.state_file = "/var/lib/rail/" + n + ".yaml";
    c.node.bpffs_dir = "/sys/fs/bpf/" + n;
    c.node.api_token_file = "/etc/rail/" + n;
    expect_round_trip(c);
  }
}

TEST(ConfigWriterRoundTrip, AddressesAndEmptyLists) {
  DaemonConfig c = example();
  ASSERT_GE(c.pools.size(), 2u);
  c.pools[1].backends.push_back(PoolBackend{ip("::1"), 3, ""});
  c.pools[1].backends.push_back(PoolBackend{ip("::ffff:192.0.2.1"), 1, "mapped"});
  c.pools[1].backends.push_back(PoolBackend{ip("2001:db8::"), 1, ""});
  c.node.ingress_addresses = {ip("192.0.2.10"), ip("2001:db8::10"), ip("::")};
  expect_round_trip(c);
  c.node.ingress_addresses.clear();
  c.node.mac.reset();
  expect_round_trip(c);
}

TEST(ConfigWriterRoundTrip, ThousandBackends) {
  DaemonConfig c = example();
  ASSERT_GE(c.pools.size(), 1u);
  c.pools[0].backends.clear();
  for (int i = 0; i < 1000; ++i) {
    const std::string a =
        "198.18." + std::to_string(10 + i / 250) + "." + std::to_string(1 + i % 250);
    c.pools[0].backends.push_back(PoolBackend{ip(a.c_str()), uint32_t(1 + i % 3), ""});
  }
  c.vips[0].table_size = 65537;
  expect_round_trip(c);
}

}  // namespace
}  // namespace rail::daemon
