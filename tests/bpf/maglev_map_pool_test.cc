// MaglevMapPool: inner Maglev maps written through their mapping, reused only after the update
// that swapped them out has returned (real BPF maps; needs root).
#include "dataplane/maglev_map_pool.h"

#include <bpf/bpf.h>
#include <gtest/gtest.h>

#include <future>
#include <vector>

namespace rail::dataplane {
namespace {

uint32_t map_id(int fd) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  EXPECT_EQ(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
  return info.id;
}

uint32_t read_entry(int fd, uint32_t key) {
  uint32_t value = 0xdeadbeef;
  EXPECT_EQ(bpf_map_lookup_elem(fd, &key, &value), 0) << "key " << key;
  return value;
}

std::shared_future<int> finished(int result) {
  std::promise<int> p;
  p.set_value(result);
  return p.get_future().share();
}

TEST(MaglevMapPool, WritesReachTheMap) {
  MaglevMapPool pool;
  auto map = pool.take(1000, false, "test table");
  ASSERT_TRUE(map.has_value()) << map.error().describe();
  EXPECT_EQ(map->entries(), 1000u);
  std::vector<uint32_t> values = {7, 11, 13, 0, 42};
  map->write(values);
  for (uint32_t i = 0; i < values.size(); ++i) EXPECT_EQ(read_entry(map->fd(), i), values[i]);
  EXPECT_EQ(read_entry(map->fd(), 999), 0u);  // a new map is zero
}

TEST(MaglevMapPool, ReusesAMapOnlyAfterItsSwapReturned) {
  MaglevMapPool pool;
  auto first = pool.take(4099, true, "test table");
  ASSERT_TRUE(first.has_value());
  const uint32_t first_id = map_id(first->fd());
  std::promise<int> grace;
  pool.retire(std::move(*first), grace.get_future().share());
  // Still in its grace period: a new map.
  auto second = pool.take(4099, true, "test table");
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(map_id(second->fd()), first_id);
  grace.set_value(0);
  // Over: the same map again, its old contents still there until written.
  auto third = pool.take(4099, true, "test table");
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(map_id(third->fd()), first_id);
  EXPECT_EQ(pool.spares(), 0u);
}

TEST(MaglevMapPool, OnlyTheSameShapeAndOnlyCompletedSwaps) {
  MaglevMapPool pool;
  auto a = pool.take(251, false, "test table");
  auto b = pool.take(251, false, "test table");
  ASSERT_TRUE(a.has_value() && b.has_value());
  const uint32_t a_id = map_id(a->fd());
  pool.retire(std::move(*a), finished(0));
  pool.retire(std::move(*b), finished(22));  // the update failed: not known to be unused
  auto other_size = pool.take(257, false, "test table");
  ASSERT_TRUE(other_size.has_value());
  EXPECT_EQ(pool.spares(), 1u);  // a; b is dropped
  auto other_flags = pool.take(251, true, "test table");
  ASSERT_TRUE(other_flags.has_value());
  EXPECT_NE(map_id(other_flags->fd()), a_id);
  auto same = pool.take(251, false, "test table");
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(map_id(same->fd()), a_id);
}

TEST(MaglevMapPool, KeepsAtMostMaxSpares) {
  MaglevMapPool pool;
  for (size_t i = 0; i < MaglevMapPool::kMaxSpares + 3; ++i) {
    auto m = InnerTableMap::create(251, false, "test table");
    ASSERT_TRUE(m.has_value());
    pool.retire(std::move(*m), finished(0));
  }
  auto taken = pool.take(251, false, "test table");  // collects, then takes one
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(pool.spares(), MaglevMapPool::kMaxSpares - 1);
}

}  // namespace
}  // namespace rail::dataplane
