// Weight changes and backend removals are checked on the model (no to_yaml + parse round trip);
// they must give exactly what the round trip (revalidate) gives: the same config, the same error.
#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace rail::daemon::testing
