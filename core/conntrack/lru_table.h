// LruTable: a fixed-capacity hash table with LRU eviction and idle timeouts, for per-node flow
// state (the connection table, the fragment table).
//
// Design: every entry lives in one preallocated node array. Buckets are chains threaded through
// the nodes by index (separate chaining in arrays, power-of-two bucket count >= capacity, so the
// load factor stays <= 1 and a chain has about one node); an intrusive doubly-linked list by
// index orders the nodes from most to least recently used; free nodes form a singly-linked list.
// Nothing allocates after construction, and lookup/insert/erase are O(1) expected.
//
// Time is passed in (uint64_t nanoseconds from any monotonic clock; core/ reads no clock).
// An entry is live while now < expires_at, where expires_at = last refresh + idle timeout of
// its key; time that goes backwards never expires anything. Expiry is lazy: a dead entry is
// removed when it is looked up, when it reaches the LRU tail and is reclaimed for a new entry
// (counted as an expiration, not an eviction), or by expire_idle(). When the table is full and
// the least recently used entry is still live, it is evicted (counted as an eviction).
//
// Not thread-safe: one table per core/queue, as in the data planes. Value pointers returned by
// lookup/peek/upsert stay valid until that entry is removed (erase, expiry, eviction, clear).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

namespace rail {

// Idle-timeout policy giving every entry the same timeout (nanoseconds).
// UINT64_MAX means "never idles out" (entries then leave only by LRU eviction or erase).
struct FixedIdleTimeout {
  uint64_t ns = 0;
  FixedIdleTimeout(uint64_t timeout_ns) : ns(timeout_ns) {}  // NOLINT: implicit on purpose
  template <typename Key>
  uint64_t operator()(const Key&) const {
    return ns;
  }
};

struct LruTableStats {
  uint64_t inserts = 0;      // new entries stored by upsert
  uint64_t updates = 0;      // upsert on a live entry (value replaced, refreshed)
  uint64_t hits = 0;         // lookup/peek found a live entry
  uint64_t misses = 0;       // lookup/peek found nothing live (includes expired finds)
  uint64_t evictions = 0;    // live LRU entries dropped to make room
  uint64_t expirations = 0;  // idle entries removed (on lookup, upsert, reclaim, expire_idle)
  uint64_t erases = 0;       // entries removed by erase()
};

// Key: copyable, equality-comparable with KeyEqual. Value: default-constructible, copyable.
// Hasher: callable Key -> integer whose low bits are well mixed (the bucket index is
// hash & (bucket_count - 1)). IdleTimeout: callable Key -> timeout in ns.
template <typename Key, typename Value, typename Hasher = std::hash<Key>,
          typename IdleTimeout = FixedIdleTimeout, typename KeyEqual = std::equal_to<Key>>
class LruTable {
 public:
  static constexpr size_t kMaxCapacity = size_t{1} << 31;

  // `capacity` is clamped to [1, kMaxCapacity]. All memory is allocated here.
  LruTable(size_t capacity, IdleTimeout idle_timeout, Hasher hasher = Hasher(),
           KeyEqual equal = KeyEqual())
      : timeout_(std::move(idle_timeout)), hasher_(std::move(hasher)), equal_(std::move(equal)) {
    capacity = capacity < 1 ? 1 : (capacity > kMaxCapacity ? kMaxCapacity : capacity);
    nodes_.resize(capacity);
    size_t buckets = 1;
    while (buckets < capacity) buckets <<= 1;
    buckets_.assign(buckets, kNil);
    mask_ = static_cast<uint32_t>(buckets - 1);
    clear();
  }

  // The live value for `key`, refreshed (moved to most recently used, idle timer restarted);
  // nullptr if absent or idle (an idle entry is removed).
  Value* lookup(const Key& key, uint64_t now) { return find_live(key, now, /*refresh=*/true); }

  // Like lookup() but leaves the entry's LRU position and idle timer alone: for packets that
  // must not keep a flow alive (ICMP errors quoting it, docs/packet-path.md §5).
  Value* peek(const Key& key, uint64_t now) { return find_live(key, now, /*refresh=*/false); }

  // Stores `value` for `key` and refreshes it. A new key takes a free node, or else the least
  // recently used node (an expiration if that entry was idle, else an eviction). Returns the
  // stored value.
  Value* upsert(const Key& key, const Value& value, uint64_t now) {
    const uint32_t hash = static_cast<uint32_t>(hasher_(key));
    uint32_t* link = find_link(key, hash);
    if (link != nullptr) {
      Node& node = nodes_[*link];
      if (is_live(node, now)) {
        ++stats_.updates;
        node.value = value;
        refresh(*link, now);
        return &node.value;
      }
      ++stats_.expirations;
      remove_at(link);
    }
    if (free_head_ == kNil) {
      const uint32_t victim = lru_tail_;
      if (is_live(nodes_[victim], now)) {
        ++stats_.evictions;
      } else {
        ++stats_.expirations;
      }
      remove_at(link_of(victim));
    }
    const uint32_t index = free_head_;
    Node& node = nodes_[index];
    free_head_ = node.chain_next;
    node.key = key;
    node.value = value;
    node.hash = hash;
    node.expires_at = deadline(key, now);
    node.chain_next = buckets_[hash & mask_];
    buckets_[hash & mask_] = index;
    push_front(index);
    ++size_;
    ++stats_.inserts;
    return &node.value;
  }

  // Removes `key` whether live or idle-but-not-yet-reaped. True if an entry was removed.
  bool erase(const Key& key) {
    uint32_t* link = find_link(key, static_cast<uint32_t>(hasher_(key)));
    if (link == nullptr) return false;
    ++stats_.erases;
    remove_at(link);
    return true;
  }

  // Examines up to `budget` entries from the least recently used end and removes the idle
  // ones: a bounded sweep to run from a timer, so idle entries do not wait for a full table.
  // (Entries with different timeouts are not sorted by deadline, hence "examine", not "stop at
  // the first live one".) Returns how many were removed.
  size_t expire_idle(uint64_t now, size_t budget) {
    size_t removed = 0;
    uint32_t index = lru_tail_;
    while (index != kNil && budget-- > 0) {
      const uint32_t newer = nodes_[index].lru_prev;
      if (!is_live(nodes_[index], now)) {
        ++stats_.expirations;
        remove_at(link_of(index));
        ++removed;
      }
      index = newer;
    }
    return removed;
  }

  // Calls fn(const Key&, const Value&) for every live entry, most recently used first.
  template <typename Fn>
  void for_each(uint64_t now, Fn&& fn) const {
    for (uint32_t i = lru_head_; i != kNil; i = nodes_[i].lru_next)
      if (is_live(nodes_[i], now)) fn(nodes_[i].key, nodes_[i].value);
  }

  // Drops every entry (counters are kept).
  void clear() {
    for (uint32_t& b : buckets_) b = kNil;
    for (size_t i = 0; i < nodes_.size(); ++i)
      nodes_[i].chain_next = i + 1 < nodes_.size() ? static_cast<uint32_t>(i + 1) : kNil;
    free_head_ = 0;
    lru_head_ = lru_tail_ = kNil;
    size_ = 0;
  }

  // Entries stored, including idle ones not yet reaped.
  size_t size() const { return size_; }
  size_t capacity() const { return nodes_.size(); }
  const LruTableStats& stats() const { return stats_; }
  const IdleTimeout& idle_timeout() const { return timeout_; }

 private:
  static constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();

  struct Node {
    Key key{};
    Value value{};
    uint64_t expires_at = 0;  // live while now < expires_at
    uint32_t hash = 0;        // low 32 bits of hasher_(key): bucket index and a cheap pre-compare
    uint32_t chain_next = kNil;  // next node in the bucket chain, or in the free list
    uint32_t lru_prev = kNil;    // towards the most recently used end
    uint32_t lru_next = kNil;    // towards the least recently used end
  };

  static bool is_live(const Node& node, uint64_t now) { return now < node.expires_at; }

  uint64_t deadline(const Key& key, uint64_t now) const {
    const uint64_t timeout = timeout_(key);
    return timeout > std::numeric_limits<uint64_t>::max() - now
               ? std::numeric_limits<uint64_t>::max()
               : now + timeout;
  }

  Value* find_live(const Key& key, uint64_t now, bool refresh_entry) {
    uint32_t* link = find_link(key, static_cast<uint32_t>(hasher_(key)));
    if (link == nullptr) {
      ++stats_.misses;
      return nullptr;
    }
    const uint32_t index = *link;
    if (!is_live(nodes_[index], now)) {
      ++stats_.misses;
      ++stats_.expirations;
      remove_at(link);
      return nullptr;
    }
    ++stats_.hits;
    if (refresh_entry) refresh(index, now);
    return &nodes_[index].value;
  }

  // The chain slot (bucket head or a node's chain_next) that holds the node for `key`.
  uint32_t* find_link(const Key& key, uint32_t hash) {
    uint32_t* link = &buckets_[hash & mask_];
    while (*link != kNil) {
      Node& node = nodes_[*link];
      if (node.hash == hash && equal_(node.key, key)) return link;
      link = &node.chain_next;
    }
    return nullptr;
  }

  // The chain slot that holds node `index` (which must be in the table).
  uint32_t* link_of(uint32_t index) {
    uint32_t* link = &buckets_[nodes_[index].hash & mask_];
    while (*link != index) link = &nodes_[*link].chain_next;
    return link;
  }

  // Unlinks the node held in `*link` from its chain and the LRU list; frees it.
  void remove_at(uint32_t* link) {
    const uint32_t index = *link;
    Node& node = nodes_[index];
    *link = node.chain_next;
    unlink_lru(index);
    node.chain_next = free_head_;
    free_head_ = index;
    --size_;
  }

  void refresh(uint32_t index, uint64_t now) {
    nodes_[index].expires_at = deadline(nodes_[index].key, now);
    if (lru_head_ == index) return;
    unlink_lru(index);
    push_front(index);
  }

  void unlink_lru(uint32_t index) {
    Node& node = nodes_[index];
    if (node.lru_prev != kNil) {
      nodes_[node.lru_prev].lru_next = node.lru_next;
    } else {
      lru_head_ = node.lru_next;
    }
    if (node.lru_next != kNil) {
      nodes_[node.lru_next].lru_prev = node.lru_prev;
    } else {
      lru_tail_ = node.lru_prev;
    }
    node.lru_prev = node.lru_next = kNil;
  }

  void push_front(uint32_t index) {
    Node& node = nodes_[index];
    node.lru_prev = kNil;
    node.lru_next = lru_head_;
    if (lru_head_ != kNil) nodes_[lru_head_].lru_prev = index;
    lru_head_ = index;
    if (lru_tail_ == kNil) lru_tail_ = index;
  }

  std::vector<Node> nodes_;
  std::vector<uint32_t> buckets_;
  uint32_t mask_ = 0;
  uint32_t free_head_ = kNil;
  uint32_t lru_head_ = kNil;  // most recently used
  uint32_t lru_tail_ = kNil;  // least recently used
  size_t size_ = 0;
  LruTableStats stats_;
  IdleTimeout timeout_;
  Hasher hasher_;
  KeyEqual equal_;
};

}  // namespace rail
