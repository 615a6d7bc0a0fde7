// duplicate_identities(): the same answer as inserting each Backend::identity() into a set.
#include "core/backend_identity.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/lb_config.h"

namespace rail {
namespace {

Backend backend(const std::string& address, const std::string& name = "") {
  Backend b;
  b.address = *IpAddress::parse(address);
  b.name = name;
  return b;
}

// The definition: identities inserted in order, a repeat reported against the first holder.
std::vector<std::pair<size_t, size_t>> reference(const std::vector<Backend>& backends) {
  std::map<std::string, size_t> first;
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t i = 0; i < backends.size(); ++i)
    if (auto [it, fresh] = first.emplace(backends[i].identity(), i); !fresh)
      out.emplace_back(it->second, i);
  return out;
}

std::vector<std::pair<size_t, size_t>> found(const std::vector<Backend>& backends) {
  std::vector<std::pair<size_t, size_t>> out;
  for (const DuplicateIdentity& d : duplicate_identities(backends))
    out.emplace_back(d.first, d.later);
  return out;
}

TEST(BackendIdentity, Examples) {
  EXPECT_TRUE(found({backend("198.18.2.1"), backend("198.18.2.2")}).empty());
  EXPECT_EQ(found({backend("198.18.2.1"), backend("198.18.2.2"), backend("198.18.2.1")}),
            (std::vector<std::pair<size_t, size_t>>{{0, 2}}));
  // Names are the identity when set: other addresses collide under one name...
  EXPECT_EQ(found({backend("198.18.2.1", "a"), backend("198.18.2.2", "a")}),
            (std::vector<std::pair<size_t, size_t>>{{0, 1}}));
  // ...and the same address under two names does not.
  EXPECT_TRUE(found({backend("198.18.2.1", "a"), backend("198.18.2.1", "b")}).empty());
  // A name spelled as another backend's address text is that backend's identity, both ways.
  EXPECT_EQ(found({backend("198.18.2.1"), backend("198.18.2.9", "198.18.2.1")}),
            (std::vector<std::pair<size_t, size_t>>{{0, 1}}));
  EXPECT_EQ(found({backend("2001:db8::9", "2001:db8::1"), backend("2001:db8::1")}),
            (std::vector<std::pair<size_t, size_t>>{{0, 1}}));
  // Not canonical text: only equal to the same name.
  EXPECT_TRUE(found({backend("2001:db8::1"), backend("2001:db8::9", "2001:DB8::1")}).empty());
  // IPv4 and IPv6 with the same leading bytes are different addresses.
  EXPECT_TRUE(found({backend("198.18.2.1"), backend("c612:201::")}).empty());
}

// Random lists over a small alphabet of addresses and names (some spelled as addresses), so
// that every kind of collision happens often.
TEST(BackendIdentity, MatchesTheSetDefinition) {
  const std::vector<std::string> addresses = {"198.18.2.1", "198.18.2.2", "2001:db8::1",
                                              "2001:db8::2"};
  const std::vector<std::string> names = {
      "", "", "", "a", "b", "198.18.2.1", "2001:db8::2", "2001:DB8::2", "198.18.2.01"};
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::vector<Backend> list;
    const size_t n = rng() % 8;
    for (size_t i = 0; i < n; ++i)
      list.push_back(backend(addresses[rng() % addresses.size()], names[rng() % names.size()]));
    ASSERT_EQ(found(list), reference(list)) << "round " << round;
  }
}

}  // namespace
}  // namespace rail
