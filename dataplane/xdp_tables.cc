// XdpDataPlane: Maglev tables: a new inner map filled through mmap, swapped into its outer slot.
#include <bpf/bpf.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <utility>

#include "core/unique_fd.h"
#include "dataplane/libbpf_error.h"
#include "dataplane/map_ops.h"
#include "dataplane/xdp_data_plane.h"

namespace rail::dataplane {
namespace {

// A new inner Maglev map of `entries` u32 holding `values` from index 0 (the rest stays 0),
// filled by one batch update: only for outer maps pinned by a build whose inner template was
// not BPF_F_MMAPABLE (the others take InnerTableMaps from map_pool_, filled through their
// mapping). The kernel runs a batch entry by entry with two user copies each (~25 ms for 65538
// entries on the 2-core VM: docs/raild.md). The caller's fd may close once the map is swapped
// in: the outer map keeps its own reference.
Result<UniqueFd> new_table_map(uint32_t entries, const std::vector<uint32_t>& values, bool fast,
                               const std::string& what) {
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = fast ? 0u : uint32_t(BPF_F_INNER_MAP));
  const int created = bpf_map_create(BPF_MAP_TYPE_ARRAY, "rail_maglev", sizeof(uint32_t),
                                     sizeof(uint32_t), entries, &opts);
  if (created < 0) return libbpf_error("create " + what, created);
  UniqueFd map(created);
  std::vector<uint32_t> keys(values.size());
  for (uint32_t i = 0; i < keys.size(); ++i) keys[i] = i;
  uint32_t count = uint32_t(values.size());
  if (bpf_map_update_batch(map.get(), keys.data(), values.data(), &count, nullptr) != 0)
    for (uint32_t i = 0; i < keys.size(); ++i)
      RAIL_TRY(update(map.get(), &keys[i], &values[i], what));
  return map;
}

}  // namespace

// A new inner map with [M, ids...], swapped into the outer slot in one update: a packet sees
// the old table or the new one, never a half-written one (abi/rail_abi.h). Tables that fit go
// to rail_maglev_fast (fixed-size inner maps: the program's lookups are inlined); the slot of
// the other outer map is cleared only after the swap, and the program tries the fast map first,
// so a table moving between the two is never missing or half-visible either.
Status XdpDataPlane::write_table(uint32_t slot, const Service& service, const MaglevTable& table,
                                 const std::vector<uint32_t>& ids) {
  std::vector<uint32_t> values;
  values.reserve(table.size() + 1);
  values.push_back(table.size());
  for (uint32_t index : table.entries())
    values.push_back(index == kNoBackend ? RAIL_NO_BACKEND : ids[index]);
  if (auto it = tables_.find(slot); it != tables_.end() && it->second == values) return ok();

  const bool fast = values.size() <= RAIL_MAGLEV_FAST_ENTRIES;
  const std::string what =
      "Maglev table of service " + service.vip.to_string() + ":" + std::to_string(service.port);
  const uint32_t entries = fast ? RAIL_MAGLEV_FAST_ENTRIES : uint32_t(values.size());
  const char* outer = fast ? "rail_maglev_fast" : "rail_maglev_tables";
  const char* other = fast ? "rail_maglev_tables" : "rail_maglev_fast";
  const int outer_fd = map_fd(outer);
  std::shared_future<int> swapped_out;  // the update that takes the old map out of `outer`
  int err = EINVAL;
  if (mmap_tables_) {
    auto inner = map_pool_.take(entries, !fast, what);
    if (!inner) return inner.error();
    inner->write(values);
    err = swap_table(outer_fd, slot, inner->fd(), swapped_out);
    if (err == 0) {
      // The slot's previous map is reusable once nothing can read it: after the update that
      // swapped it out returns if it was in `outer`, after the removal below if in `other`.
      auto old = live_tables_.find(slot);
      if (old != live_tables_.end() && old->second.inner_template() == !fast) {
        map_pool_.retire(std::move(old->second), swapped_out);
        live_tables_.erase(old);
      }
      live_tables_.insert_or_assign(slot, std::move(*inner));
    }
  }
  if (err == EINVAL && mmap_tables_) {
    // Outer maps pinned by a build whose inner template was not BPF_F_MMAPABLE refuse a
    // mmapable inner map: fill tables by batch from now on.
    mmap_tables_ = false;
  }
  if (!mmap_tables_) {
    auto inner = new_table_map(entries, values, fast, what);
    if (!inner) return inner.error();
    err = swap_table(outer_fd, slot, inner->get(), swapped_out);
    if (err == 0) live_tables_.erase(slot);
  }
  if (err != 0) return make_error(ErrorCode::kSystem, "swap in " + what + ": " + strerror(err));
  // A removal returns after its own grace period (the kernel waits as for an update).
  Status st = remove(map_fd(other), &slot, "move " + what);
  if (st) tables_[slot] = std::move(values);
  return st;
}

// The kernel's update of an ARRAY_OF_MAPS slot exchanges the pointer first, then waits one RCU
// grace period for programs still running on the old table (synchronize_rcu: 8-16 ms on the
// 2-core VM, most of an API change's latency); a delete clears the slot, then waits the same
// way. Both run on a TableSwapper worker, and the caller only waits here until `exchanged()`
// sees the slot changed: every program run that starts after that sees the new state, while
// the grace period finishes on the worker (~TableSwapper joins it). Calls on one slot cannot
// overtake each other: each returns only after its own exchange. Returns 0, or the errno of a
// failed call.
int XdpDataPlane::await_exchange(const std::shared_future<int>& job,
                                 const std::function<bool()>& exchanged) {
  // The exchange takes microseconds once the worker runs: poll without sleeping for a while
  // (a sleeping caller had to wait for a CPU again under load: ~4 ms at p90), then every 50 us.
  const auto spin_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
  for (;;) {
    const auto wait = std::chrono::steady_clock::now() < spin_until ? std::chrono::microseconds(0)
                                                                    : std::chrono::microseconds(50);
    if (job.wait_for(wait) == std::future_status::ready) return job.get();
    if (exchanged()) return 0;
  }
}

// Puts `inner_fd`'s map into `slot`; `done` becomes ready when the update's grace period is
// over (the map swapped out is then unused).
int XdpDataPlane::swap_table(int outer_fd, uint32_t slot, int inner_fd,
                             std::shared_future<int>& done) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(inner_fd, &info, &len) != 0) return errno;
  // The worker resolves both fds before the exchange: once the slot shows the new map, it no
  // longer needs `inner_fd` (the caller may close it).
  done = swapper_.start(outer_fd, slot, inner_fd).share();
  return await_exchange(done, [&] {
    uint32_t id = 0;
    return bpf_map_lookup_elem(outer_fd, &slot, &id) == 0 && id == info.id;
  });
}

// Empties `slot` (a removed service's table). Synchronously this kept a VIP's DELETE over
// 10 ms. An already empty slot costs one lookup.
Status XdpDataPlane::clear_table(int outer_fd, uint32_t slot, const std::string& what) {
  uint32_t id = 0;
  if (bpf_map_lookup_elem(outer_fd, &slot, &id) != 0)
    return errno == ENOENT ? ok() : errno_error("read " + what);
  const std::shared_future<int> job = swapper_.start(outer_fd, slot, TableSwapper::kClear).share();
  const int err = await_exchange(job, [&] {
    uint32_t now = 0;
    return bpf_map_lookup_elem(outer_fd, &slot, &now) != 0 && errno == ENOENT;
  });
  if (err == 0 || err == ENOENT) return ok();
  errno = err;
  return errno_error(what);
}

}  // namespace rail::dataplane
