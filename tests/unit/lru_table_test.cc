// Tests for LruTable: capacity, LRU order, idle timeouts, counters, and equivalence with a
// straightforward reference model under random operations.
#include "core/conntrack/lru_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <list>
#include <map>
#include <random>
#include <utility>
#include <vector>

namespace rail {
namespace {

using IntTable = LruTable<uint32_t, uint32_t>;

// Every key in one of four buckets: long chains, so unlinking from the middle of a chain is
// exercised.
struct CollidingHasher {
  uint64_t operator()(uint32_t key) const { return key % 4; }
};

std::vector<uint32_t> keys_mru_first(const IntTable& table, uint64_t now) {
  std::vector<uint32_t> keys;
  table.for_each(now, [&](uint32_t key, uint32_t) { keys.push_back(key); });
  return keys;
}

TEST(LruTable, StaysWithinCapacityAndEvictsOldest) {
  IntTable table(8, FixedIdleTimeout(1000));
  for (uint32_t k = 0; k < 18; ++k) table.upsert(k, k * 10, /*now=*/k);
  EXPECT_EQ(table.size(), 8u);
  EXPECT_EQ(table.capacity(), 8u);
  EXPECT_EQ(table.stats().inserts, 18u);
  EXPECT_EQ(table.stats().evictions, 10u);
  for (uint32_t k = 0; k < 10; ++k) EXPECT_EQ(table.peek(k, 20), nullptr) << k;
  for (uint32_t k = 10; k < 18; ++k) {
    ASSERT_NE(table.peek(k, 20), nullptr) << k;
    EXPECT_EQ(*table.peek(k, 20), k * 10);
  }
}

TEST(LruTable, LookupMovesToFrontPeekDoesNot) {
  IntTable table(3, FixedIdleTimeout(1000));
  table.upsert(1, 1, 0);
  table.upsert(2, 2, 0);
  table.upsert(3, 3, 0);
  ASSERT_NE(table.lookup(1, 1), nullptr);  // order now 1, 3, 2
  ASSERT_NE(table.peek(2, 1), nullptr);    // unchanged: 2 is still least recently used
  EXPECT_EQ(keys_mru_first(table, 1), (std::vector<uint32_t>{1, 3, 2}));
  table.upsert(4, 4, 2);
  EXPECT_EQ(table.peek(2, 2), nullptr);
  EXPECT_EQ(keys_mru_first(table, 2), (std::vector<uint32_t>{4, 1, 3}));
  table.upsert(3, 33, 3);  // update refreshes too
  table.upsert(5, 5, 3);
  EXPECT_EQ(keys_mru_first(table, 3), (std::vector<uint32_t>{5, 3, 4}));
  EXPECT_EQ(*table.peek(3, 3), 33u);
  EXPECT_EQ(table.stats().updates, 1u);
  EXPECT_EQ(table.stats().evictions, 2u);
}

TEST(LruTable, IdleTimeoutRestartsOnLookupOnly) {
  IntTable table(4, FixedIdleTimeout(100));
  table.upsert(7, 70, 1000);                // live while now < 1100
  EXPECT_NE(table.peek(7, 1099), nullptr);  // peek does not extend
  EXPECT_EQ(table.peek(7, 1100), nullptr);
  EXPECT_EQ(table.size(), 0u);  // removed when found idle
  EXPECT_EQ(table.stats().expirations, 1u);

  table.upsert(8, 80, 2000);
  EXPECT_NE(table.lookup(8, 2099), nullptr);  // refreshed: live while now < 2199
  EXPECT_NE(table.lookup(8, 2198), nullptr);  // live while now < 2298
  EXPECT_EQ(table.lookup(8, 2298), nullptr);
  EXPECT_EQ(table.stats().hits, 3u);
  EXPECT_EQ(table.stats().misses, 2u);
  EXPECT_EQ(table.stats().expirations, 2u);
}

TEST(LruTable, TimeGoingBackwardsExpiresNothing) {
  IntTable table(2, FixedIdleTimeout(100));
  table.upsert(1, 1, 5000);
  EXPECT_NE(table.lookup(1, 10), nullptr);  // now < last refresh: still live
}

TEST(LruTable, InfiniteTimeoutDoesNotOverflow) {
  IntTable table(2, FixedIdleTimeout(UINT64_MAX));
  table.upsert(1, 1, 12345);
  EXPECT_NE(table.lookup(1, UINT64_MAX - 1), nullptr);
}

TEST(LruTable, IdleTailIsReclaimedAsExpirationNotEviction) {
  IntTable table(2, FixedIdleTimeout(100));
  table.upsert(1, 1, 0);
  table.upsert(2, 2, 150);
  table.upsert(3, 3, 150);  // full; tail 1 is idle since 100
  EXPECT_EQ(table.stats().expirations, 1u);
  EXPECT_EQ(table.stats().evictions, 0u);
  table.upsert(4, 4, 160);  // full; tail 2 is live
  EXPECT_EQ(table.stats().evictions, 1u);
  EXPECT_EQ(keys_mru_first(table, 160), (std::vector<uint32_t>{4, 3}));
}

TEST(LruTable, UpsertOnIdleEntryCountsAsExpiryPlusInsert) {
  IntTable table(2, FixedIdleTimeout(100));
  table.upsert(1, 1, 0);
  table.upsert(1, 2, 500);
  EXPECT_EQ(table.stats().inserts, 2u);
  EXPECT_EQ(table.stats().updates, 0u);
  EXPECT_EQ(table.stats().expirations, 1u);
  EXPECT_EQ(*table.lookup(1, 501), 2u);
}

TEST(LruTable, EraseAndReuse) {
  LruTable<uint32_t, uint32_t, CollidingHasher> table(3, FixedIdleTimeout(1000));
  for (uint32_t k : {4u, 8u, 12u}) table.upsert(k, k, 0);  // one chain of three
  EXPECT_TRUE(table.erase(8));                             // middle of the chain
  EXPECT_FALSE(table.erase(8));
  EXPECT_EQ(table.size(), 2u);
  EXPECT_NE(table.peek(4, 1), nullptr);
  EXPECT_NE(table.peek(12, 1), nullptr);
  table.upsert(16, 16, 1);  // reuses the freed node: no eviction needed
  EXPECT_EQ(table.stats().evictions, 0u);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.stats().erases, 1u);
  for (uint32_t k : {4u, 12u, 16u}) EXPECT_EQ(*table.peek(k, 2), k);
}

TEST(LruTable, ExpireIdleSweepsAtMostBudgetFromTheOldEnd) {
  IntTable table(10, FixedIdleTimeout(100));
  for (uint32_t k = 0; k < 6; ++k) table.upsert(k, k, k * 10);  // deadlines 100..150
  EXPECT_EQ(table.expire_idle(/*now=*/125, /*budget=*/2), 2u);  // 0 and 1
  EXPECT_EQ(table.size(), 4u);
  EXPECT_EQ(table.expire_idle(125, 10), 1u);  // only 2 (deadline 120) is idle now
  EXPECT_EQ(keys_mru_first(table, 125), (std::vector<uint32_t>{5, 4, 3}));
  EXPECT_EQ(table.stats().expirations, 3u);
}

TEST(LruTable, CapacityZeroIsClampedToOne) {
  IntTable table(0, FixedIdleTimeout(10));
  EXPECT_EQ(table.capacity(), 1u);
  table.upsert(1, 1, 0);
  table.upsert(2, 2, 0);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_NE(table.peek(2, 0), nullptr);
}

TEST(LruTable, ClearEmptiesAndKeepsCounters) {
  IntTable table(4, FixedIdleTimeout(10));
  table.upsert(1, 1, 0);
  table.clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.peek(1, 0), nullptr);
  EXPECT_EQ(table.stats().inserts, 1u);
  for (uint32_t k = 0; k < 4; ++k) table.upsert(k, k, 0);
  EXPECT_EQ(table.stats().evictions, 0u);
}

// The reference: the documented semantics written the obvious way, with a list for recency
// and a map for contents (lazy expiry, reclaim the tail when full).
class ReferenceLru {
 public:
  ReferenceLru(size_t capacity, uint64_t timeout) : capacity_(capacity), timeout_(timeout) {}

  const uint32_t* find(uint32_t key, uint64_t now, bool refresh) {
    auto it = map_.find(key);
    if (it == map_.end()) {
      ++stats.misses;
      return nullptr;
    }
    if (now >= it->second.expires) {
      ++stats.misses;
      ++stats.expirations;
      remove(it);
      return nullptr;
    }
    ++stats.hits;
    if (refresh) touch(it, now);
    return &it->second.value;
  }

  void upsert(uint32_t key, uint32_t value, uint64_t now) {
    auto it = map_.find(key);
    if (it != map_.end()) {
      if (now < it->second.expires) {
        ++stats.updates;
        it->second.value = value;
        touch(it, now);
        return;
      }
      ++stats.expirations;
      remove(it);
    }
    if (map_.size() == capacity_) {
      auto victim = map_.find(order_.back());
      ++(now < victim->second.expires ? stats.evictions : stats.expirations);
      remove(victim);
    }
    order_.push_front(key);
    map_[key] = Entry{value, deadline(now), order_.begin()};
    ++stats.inserts;
  }

  bool erase(uint32_t key) {
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    ++stats.erases;
    remove(it);
    return true;
  }

  size_t expire_idle(uint64_t now, size_t budget) {
    size_t removed = 0;
    auto pos = order_.end();
    while (pos != order_.begin() && budget-- > 0) {
      --pos;
      auto it = map_.find(*pos);
      if (now >= it->second.expires) {
        pos = order_.erase(pos);
        map_.erase(it);
        ++stats.expirations;
        ++removed;
      }
    }
    return removed;
  }

  std::vector<std::pair<uint32_t, uint32_t>> live(uint64_t now) const {
    std::vector<std::pair<uint32_t, uint32_t>> out;
    for (uint32_t key : order_) {
      const Entry& e = map_.at(key);
      if (now < e.expires) out.emplace_back(key, e.value);
    }
    return out;
  }

  size_t size() const { return map_.size(); }
  LruTableStats stats;

 private:
  struct Entry {
    uint32_t value;
    uint64_t expires;
    std::list<uint32_t>::iterator pos;
  };
  uint64_t deadline(uint64_t now) const { return now + timeout_; }
  void touch(std::map<uint32_t, Entry>::iterator it, uint64_t now) {
    it->second.expires = deadline(now);
    order_.erase(it->second.pos);
    order_.push_front(it->first);
    it->second.pos = order_.begin();
  }
  void remove(std::map<uint32_t, Entry>::iterator it) {
    order_.erase(it->second.pos);
    map_.erase(it);
  }

  size_t capacity_;
  uint64_t timeout_;
  std::list<uint32_t> order_;  // most recently used first
  std::map<uint32_t, Entry> map_;
};

template <typename Hasher>
void run_random_ops_against_reference(uint32_t seed) {
  constexpr size_t kCapacity = 64;
  constexpr uint64_t kTimeout = 500;
  LruTable<uint32_t, uint32_t, Hasher> table(kCapacity, FixedIdleTimeout(kTimeout));
  ReferenceLru model(kCapacity, kTimeout);
  std::mt19937 rng(seed);
  uint64_t now = 0;
  for (int op = 0; op < 200000; ++op) {
    const uint32_t key = rng() % 160;  // 2.5x capacity: hits, misses and evictions all happen
    // Alternate phases: time racing (entries idle out after ~125 ops) and time almost still
    // (the table fills and evicts live entries).
    now += (op / 10000) % 2 ? rng() % 8 : (rng() % 64 == 0);
    switch (rng() % 8) {
      case 0:
      case 1: {
        const uint32_t* want = model.find(key, now, true);
        const uint32_t* got = table.lookup(key, now);
        ASSERT_EQ(got == nullptr, want == nullptr) << "lookup " << key << " op " << op;
        if (got) {
          ASSERT_EQ(*got, *want);
        }
        break;
      }
      case 2: {
        const uint32_t* want = model.find(key, now, false);
        const uint32_t* got = table.peek(key, now);
        ASSERT_EQ(got == nullptr, want == nullptr) << "peek " << key << " op " << op;
        if (got) {
          ASSERT_EQ(*got, *want);
        }
        break;
      }
      case 3:
        ASSERT_EQ(table.erase(key), model.erase(key)) << "erase " << key << " op " << op;
        break;
      case 4: {
        const size_t budget = rng() % 16;
        ASSERT_EQ(table.expire_idle(now, budget), model.expire_idle(now, budget)) << op;
        break;
      }
      default: {
        const uint32_t value = rng();
        model.upsert(key, value, now);
        ASSERT_EQ(*table.upsert(key, value, now), value);
      }
    }
    ASSERT_EQ(table.size(), model.size()) << "op " << op;
    if (op % 997 == 0) {
      std::vector<std::pair<uint32_t, uint32_t>> live;
      table.for_each(now, [&](uint32_t k, uint32_t v) { live.emplace_back(k, v); });
      ASSERT_EQ(live, model.live(now)) << "op " << op;
    }
  }
  const LruTableStats& a = table.stats();
  const LruTableStats& b = model.stats;
  EXPECT_EQ(a.inserts, b.inserts);
  EXPECT_EQ(a.updates, b.updates);
  EXPECT_EQ(a.hits, b.hits);
  EXPECT_EQ(a.misses, b.misses);
  EXPECT_EQ(a.evictions, b.evictions);
  EXPECT_EQ(a.expirations, b.expirations);
  EXPECT_EQ(a.erases, b.erases);
  // The mix of operations really exercised every path.
  EXPECT_GT(a.evictions, 1000u);
  EXPECT_GT(a.expirations, 1000u);
  EXPECT_GT(a.hits, 1000u);
  EXPECT_GT(a.updates, 1000u);
}

TEST(LruTable, MatchesReferenceModelUnderRandomOps) {
  run_random_ops_against_reference<std::hash<uint32_t>>(1);
}

TEST(LruTable, MatchesReferenceModelWithAllKeysColliding) {
  run_random_ops_against_reference<CollidingHasher>(2);
}

}  // namespace
}  // namespace rail
