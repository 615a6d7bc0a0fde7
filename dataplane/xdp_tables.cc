// XdpDataPlane: Maglev tables: a new inner map filled through mmap, swapped into its outer slot.
#include <bpf/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <utility>

#include "dataplane/libbpf_error.h"
#include "dataplane/map_ops.h"
#include "dataplane/xdp_data_plane.h"

namespace rail::dataplane {
namespace {

// An owned fd, closed at scope end (the inner maps: the outer map keeps its own reference).
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() {
    if (fd_ >= 0) close(fd_);
  }
  const int& fd() const { return fd_; }

 private:
  int fd_;
};

// A new inner Maglev map of `entries` u32 holding `values` from index 0 (the rest stays 0).
// A BPF_F_MMAPABLE map is filled through a shared mapping, no system call per entry (~0.1 ms
// for 65538 entries); otherwise by one batch update, which the kernel still runs entry by entry
// with two user copies each (~25 ms for 65538 entries on the 2-core VM: docs/raild.md).
Result<OwnedFd> new_table_map(uint32_t entries, const std::vector<uint32_t>& values, bool fast,
                              bool mmapable, const std::string& what) {
  const uint32_t flags =
      (fast ? 0u : uint32_t(BPF_F_INNER_MAP)) | (mmapable ? uint32_t(BPF_F_MMAPABLE) : 0u);
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
  const int created = bpf_map_create(BPF_MAP_TYPE_ARRAY, "rail_maglev", sizeof(uint32_t),
                                     sizeof(uint32_t), entries, &opts);
  if (created < 0) return libbpf_error("create " + what, created);
  OwnedFd map(created);
  if (mmapable) {
    // The kernel stores array values 8-byte aligned: entry i is at byte 8 * i.
    constexpr size_t kStride = 8;
    const size_t bytes = values.size() * kStride;
    void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, map.fd(), 0);
    if (mem == MAP_FAILED) return errno_error("mmap " + what);
    auto* base = static_cast<uint8_t*>(mem);
    for (size_t i = 0; i < values.size(); ++i)
      std::memcpy(base + i * kStride, &values[i], sizeof(uint32_t));
    munmap(mem, bytes);
    return map;
  }
  std::vector<uint32_t> keys(values.size());
  for (uint32_t i = 0; i < keys.size(); ++i) keys[i] = i;
  uint32_t count = uint32_t(values.size());
  if (bpf_map_update_batch(map.fd(), keys.data(), values.data(), &count, nullptr) != 0)
    for (uint32_t i = 0; i < keys.size(); ++i)
      RAIL_TRY(update(map.fd(), &keys[i], &values[i], what));
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
  auto inner = new_table_map(entries, values, fast, mmap_tables_, what);
  if (!inner) return inner.error();
  int err = swap_table(map_fd(outer), slot, inner->fd());
  if (err == EINVAL && mmap_tables_) {
    // Outer maps pinned by a build whose inner template was not BPF_F_MMAPABLE refuse a
    // mmapable inner map: fill tables by batch from now on.
    mmap_tables_ = false;
    inner = new_table_map(entries, values, fast, false, what);
    if (!inner) return inner.error();
    err = swap_table(map_fd(outer), slot, inner->fd());
  }
  if (err != 0) return make_error(ErrorCode::kSystem, "swap in " + what + ": " + strerror(err));
  Status st = remove(map_fd(other), &slot, "move " + what);
  if (st) tables_[slot] = std::move(values);
  return st;
}

// The kernel's update of an ARRAY_OF_MAPS slot exchanges the pointer first, then waits one RCU
// grace period for programs still running on the old table (synchronize_rcu: 8-16 ms on the
// 2-core VM, most of an API change's latency). The update runs on a TableSwapper worker; this
// returns as soon as the slot holds `inner_fd`'s map, so every program run that starts after
// it uses the new table, while the wait finishes behind (grace_waits_). Returns 0 or the
// errno of a failed update.
int XdpDataPlane::swap_table(int outer_fd, uint32_t slot, int inner_fd) {
  std::erase_if(grace_waits_, [](std::future<int>& f) {
    return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  });
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(inner_fd, &info, &len) != 0) return errno;
  // The worker resolves both fds before the exchange: once the slot shows the new map, it no
  // longer needs `inner_fd` (the caller may close it).
  std::future<int> update = swapper_.start(outer_fd, slot, inner_fd);
  // The exchange takes microseconds once the worker runs: poll without sleeping for a while
  // (a sleeping caller had to wait for a CPU again under load: ~4 ms at p90), then every 50 us.
  const auto spin_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
  for (;;) {
    const auto wait = std::chrono::steady_clock::now() < spin_until ? std::chrono::microseconds(0)
                                                                    : std::chrono::microseconds(50);
    if (update.wait_for(wait) == std::future_status::ready) return update.get();
    uint32_t id = 0;
    if (bpf_map_lookup_elem(outer_fd, &slot, &id) == 0 && id == info.id) {
      grace_waits_.push_back(std::move(update));
      return 0;
    }
  }
}

}  // namespace rail::dataplane
