// Weight changes, backend removals and added backends are checked on the model (no to_yaml +
// parse round trip of the whole config); they must give exactly what reading the whole config
// gives: the same config, the same error.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>

#include "controller_test_world.h"
#include "daemon/controller/config_edit.h"

namespace rail::daemon::testing {
namespace {

DaemonConfig three_backends() {
  auto c = parse_config(world_yaml("/var/lib/rail"), "test");
  EXPECT_TRUE(c) << c.error().message;
  return *c;
}

void ExpectSame(const Result<DaemonConfig>& fast, const Result<DaemonConfig>& round_trip,
                const std::string& what) {
  ASSERT_EQ(bool(fast), bool(round_trip)) << what;
  if (fast) {
    EXPECT_EQ(*fast, *round_trip) << what;
  } else {
    EXPECT_EQ(fast.error().code, round_trip.error().code) << what;
    EXPECT_EQ(fast.error().message, round_trip.error().message) << what;
  }
}

TEST(ConfigEditRecheck, WeightsMatchTheRoundTripIncludingOutOfRange) {
  const DaemonConfig config = three_backends();
  for (uint32_t weight : {0u, 1u, 7u, 65535u, 65536u, 70000u}) {
    DaemonConfig edited = config;
    edited.pools[0].backends[1].weight = weight;
    ExpectSame(with_weight(config, "web", ip("198.18.1.2"), weight), revalidate(edited),
               "weight " + std::to_string(weight));
  }
  auto bad = with_weight(config, "web", ip("198.18.1.2"), 70000);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind("pools[0].backends[1].weight: ", 0), 0u)
      << bad.error().message;
}

TEST(ConfigEditRecheck, RemovalsMatchTheRoundTripDownToAnEmptyPool) {
  DaemonConfig config = three_backends();
  for (const char* address : {"198.18.1.2", "198.18.1.1", "198.18.1.3"}) {
    DaemonConfig edited = config;
    std::erase_if(edited.pools[0].backends,
                  [&](const PoolBackend& b) { return b.address == ip(address); });
    auto fast = without_backend(config, "web", ip(address));
    ExpectSame(fast, revalidate(edited), std::string("without ") + address);
    if (!fast) {
      // The last one: the VIP would need more healthy backends than the pool has.
      EXPECT_NE(fast.error().message.find("vips[0].need"), std::string::npos)
          << fast.error().message;
      return;
    }
    config = *fast;
  }
  FAIL() << "removing every backend was accepted";
}

// The loader's message for the world config with `entry` appended to web's backends, without
// "test:LINE:COL: " (the API's messages carry no positions).
std::string loader_error_with(const std::string& entry) {
  auto c = parse_config(world_yaml("/var/lib/rail", "type: none",
                                   "[198.18.1.1, 198.18.1.2, 198.18.1.3, " + entry + "]"),
                        "test");
  if (c) return "(accepted)";
  static const std::regex position("(^|\n)test:[0-9]+:[0-9]+: ");
  return std::regex_replace(c.error().message, position, "$1");
}

TEST(ConfigEditRecheck, AddedBackendsAreReadAsTheLoaderReadsThem) {
  const DaemonConfig config = three_backends();
  for (const char* doc : {R"({"address": "198.18.1.4"})",
                          R"({"address": "198.18.1.4", "weight": 3, "name": "web-4"})",
                          R"({"address": "198.18.1.9", "weight": 0})"}) {
    auto fast = with_backend(config, "web", doc);
    ASSERT_TRUE(fast) << doc << ": " << fast.error().message;
    auto whole =
        parse_config(world_yaml("/var/lib/rail", "type: none",
                                std::string("[198.18.1.1, 198.18.1.2, 198.18.1.3, ") + doc + "]"),
                     "test");
    ASSERT_TRUE(whole) << whole.error().message;
    EXPECT_EQ(*fast, *whole) << doc;
  }
  for (const char* doc :
       {R"({"address": "198.18.1.4", "weight": 70000})", R"({"address": "nope"})",
        R"({"adress": "198.18.1.4"})", R"({"weight": 2})", R"({"address": "198.18.1.4", "x": 1})",
        R"({"address": "2001:db8::4"})"}) {  // the last: IPv6 without outer_source_v6
    auto fast = with_backend(config, "web", doc);
    ASSERT_FALSE(fast) << doc;
    EXPECT_EQ(fast.error().code, ErrorCode::kInvalidArgument) << doc;
    EXPECT_EQ(fast.error().message, loader_error_with(doc)) << doc;
  }
  EXPECT_EQ(with_backend(config, "web", R"({"address": "198.18.1.2"})").error().code,
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(with_backend(config, "nope", R"({"address": "198.18.1.4"})").error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(with_backend(config, "web", "198.18.1.4").error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace rail::daemon::testing
