// Added and removed VIPs (with_vip, without_vip) must give exactly what reading the whole config
// with that change gives: the same config, the same error, whatever the VIP document holds.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>

#include "controller_test_world.h"
#include "daemon/config/config_writer.h"
#include "daemon/controller/config_edit.h"

namespace rail::daemon::testing {
namespace {

DaemonConfig world() {
  auto c = parse_config(world_yaml("/var/lib/rail"), "test");
  EXPECT_TRUE(c) << c.error().message;
  return *c;
}

// The loader reading the running config as the state file holds it (to_yaml) with `doc` (one
// line) appended to vips, its positions dropped as the API drops them.
Result<DaemonConfig> whole_file_with(const DaemonConfig& config, const std::string& doc) {
  auto c = parse_config(to_yaml(config) + "  - " + doc + "\n", "api");
  if (c) return c;
  static const std::regex position("(^|\n)api(:[0-9]+:[0-9]+)?: ");
  return make_error(c.error().code, std::regex_replace(c.error().message, position, "$1"));
}

void ExpectSameAsWholeFile(const DaemonConfig& config, const std::string& doc) {
  auto fast = with_vip(config, doc);
  auto whole = whole_file_with(config, doc);
  ASSERT_EQ(bool(fast), bool(whole)) << doc << "\n"
                                     << (fast ? whole.error().message : fast.error().message);
  if (fast) {
    EXPECT_EQ(*fast, *whole) << doc;
    auto again = revalidate(*fast);  // what the state file will hold loads back the same
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*again, *fast) << doc;
  } else {
    EXPECT_EQ(fast.error().code, ErrorCode::kInvalidArgument) << doc;
    EXPECT_EQ(fast.error().message, whole.error().message) << doc;
  }
}

TEST(ConfigEditVip, AddedVipsAreReadAsTheLoaderReadsThem) {
  const DaemonConfig config = world();
  for (const char* doc : {
           R"({"name": "api", "address": "198.18.100.3", "port": 443, "pool": "web"})",
           R"({"name": "any", "address": "198.18.100.3", "port": "any", "protocol": "udp",)"
           R"( "hash": "source-ip", "encapsulation": "ipip", "table_size": 13, "need": 2,)"
           R"( "pool": "web"})",
           R"({"name": "dns", "address": "198.18.100.2", "protocol": "udp", "port": 53,)"
           R"( "table_size": 13, "pool": {"backends": ["198.18.1.4", {"address": "198.18.1.5",)"
           R"( "weight": 3, "name": "b5"}], "check": {"type": "udp", "port": 53}}})",
           "{name: yaml, address: 198.18.100.4, port: 80, pool: {backends: [198.18.1.1]}}",
       })
    ExpectSameAsWholeFile(config, doc);
}

TEST(ConfigEditVip, BadVipDocumentsGiveTheLoadersMessages) {
  const DaemonConfig config = world();
  for (const char* doc : {
           // unknown keys (with and without a suggestion)
           R"({"name": "x", "address": "198.18.100.9", "port": 80, "pool": "web", "prot": 1})",
           R"({"name": "x", "address": "198.18.100.9", "port": 80, "pool": "web", "zzz": 1})",
           // bad port, bad table size and an unknown pool, all at once (order of the document)
           R"({"name": "x", "address": "198.18.100.9", "port": 70000, "table_size": 100,)"
           R"( "pool": "nope"})",
           R"({"name": "x", "address": "198.18.100.9", "port": "http", "pool": "web"})",
           R"({"pool": "wbe", "port": 80, "address": "198.18.100.9", "name": "x"})",
           // problems of the checks and of the reading, in the order of the document
           R"({"pool": "nope", "table_size": 100, "port": 70000, "address": "198.18.100.9",)"
           R"( "name": "x", "prot": 1})",
           // missing fields, wrong kinds
           R"({"address": "198.18.100.9", "port": 80, "pool": "web"})",
           R"({"name": "x", "port": 80})",
           R"({"name": ["x"], "address": "nope", "port": 80, "pool": "web"})",
           R"({"name": "", "address": "198.18.100.9", "port": 80, "pool": ""})",
           R"({"name": "x", "address": "198.18.100.9", "port": 80, "pool": [1]})",
           // the same service as www
           R"({"name": "x", "address": "198.18.100.1", "port": 80, "pool": "web"})",
           // inline pools: bad entries, keys, checks; a name taken by a named pool
           R"({"name": "x", "address": "198.18.100.9", "port": 80, "pool": {"backends":)"
           R"( ["nope", {"address": "198.18.1.4", "weight": 70000}], "name": "p"}})",
           R"({"name": "x", "address": "198.18.100.9", "port": 80, "pool": {"backends":)"
           R"( ["198.18.1.4", "198.18.1.4"], "check": {"type": "tcp", "port": 80,)"
           R"( "interval": "1s", "timeout": "2s"}}})",
           R"({"name": "x", "address": "198.18.100.9", "port": 80, "pool": {"check":)"
           R"( {"type": "none"}}})",
           R"({"name": "web", "address": "198.18.100.9", "port": 80, "pool": {"backends":)"
           R"( ["198.18.1.4"]}})",
           R"({"name": "x", "address": "198.18.100.9", "port": 80, "need": 5, "pool": {)"
           R"("backends": ["2001:db8::4"]}})",
           R"({"name": "x", "address": "2001:db8:100::9", "port": 80, "pool": {"backends":)"
           R"( ["198.18.1.4"], "check": {"type": "tcp", "port": 80, "via_vip": true}}})",
       })
    ExpectSameAsWholeFile(config, doc);
}

TEST(ConfigEditVip, NamesTakenAndDocumentsThatAreNoMappingAreRefusedFirst) {
  const DaemonConfig config = world();
  auto taken = with_vip(config, R"({"name": "www", "address": "198.18.100.9", "port": 81})");
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(taken.error().message, "a VIP named \"www\" exists");
  for (const char* doc : {"[1, 2]", "42", ""}) {
    auto r = with_vip(config, doc);
    ASSERT_FALSE(r) << doc;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << doc;
    EXPECT_EQ(r.error().message, "vip must be a mapping") << doc;
  }
  auto syntax = with_vip(config, "{name: x, port: [");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(syntax.error().message.rfind("vip: ", 0), 0u) << syntax.error().message;
}

// A later VIP may name an earlier VIP's inline pool (hoisted under that VIP's name).
DaemonConfig with_shared_inline_pool() {
  auto a =
      with_vip(world(), R"({"name": "dns", "address": "198.18.100.2", "protocol": "udp",)"
                        R"( "port": 53, "table_size": 13, "pool": {"backends": ["198.18.1.4"]}})");
  EXPECT_TRUE(a) << a.error().message;
  ExpectSameAsWholeFile(*a, R"({"name": "dns2", "address": "198.18.100.3", "protocol": "udp",)"
                            R"( "port": 53, "table_size": 13, "pool": "dns"})");
  auto b = with_vip(*a, R"({"name": "dns2", "address": "198.18.100.3", "protocol": "udp",)"
                        R"( "port": 53, "table_size": 13, "pool": "dns"})");
  EXPECT_TRUE(b) << b.error().message;
  return *b;
}

bool has_pool(const DaemonConfig& c, const std::string& name) {
  return std::any_of(c.pools.begin(), c.pools.end(), [&](const Pool& p) { return p.name == name; });
}

TEST(ConfigEditVip, RemovedVipsTakeTheirInlinePoolUnlessAnotherVipUsesIt) {
  const DaemonConfig shared = with_shared_inline_pool();
  ASSERT_EQ(shared.vips.size(), 3u);
  ASSERT_TRUE(has_pool(shared, "dns"));

  // dns2 uses dns's inline pool: removing dns keeps it.
  auto no_dns = without_vip(shared, "dns");
  ASSERT_TRUE(no_dns) << no_dns.error().message;
  EXPECT_TRUE(has_pool(*no_dns, "dns"));
  DaemonConfig expected = shared;
  std::erase_if(expected.vips, [](const Vip& v) { return v.name == "dns"; });
  EXPECT_EQ(*no_dns, *revalidate(expected));

  // Removing dns2 instead leaves dns and its pool as they were.
  auto no_dns2 = without_vip(shared, "dns2");
  ASSERT_TRUE(no_dns2) << no_dns2.error().message;
  EXPECT_EQ(*no_dns2, *with_vip(world(), R"({"name": "dns", "address": "198.18.100.2",)"
                                         R"( "protocol": "udp", "port": 53, "table_size": 13,)"
                                         R"( "pool": {"backends": ["198.18.1.4"]}})"));
  // Then dns goes with its pool; the named pool web stays when www goes.
  auto none = without_vip(*no_dns2, "dns");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(*none, world());
  auto empty = without_vip(*none, "www");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->vips.empty());
  EXPECT_TRUE(has_pool(*empty, "web"));
  EXPECT_EQ(*empty, *revalidate(*empty));

  auto missing = without_vip(shared, "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "no VIP named \"nope\"");
}

}  // namespace
}  // namespace rail::daemon::testing
