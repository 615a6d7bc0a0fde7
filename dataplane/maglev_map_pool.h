// MaglevMapPool: inner Maglev maps kept mapped and reused once no program can still read them.
//
// A Maglev table swap (xdp_tables.cc) fills a new inner array map and exchanges it into the
// outer map's slot. Creating that map per change cost the kernel a zeroed 512 KiB allocation,
// 128 page faults on the first mmap and a TLB flush on munmap: ~0.3 ms of every API change on
// a 65537-entry table, more under load. The map swapped OUT is reusable as soon as the
// kernel's update call that replaced it returns: it returns after an RCU grace period, when no
// program run can still hold the old table (kernel/bpf/syscall.c, maybe_wait_bpf_programs:
// synchronize_rcu() after a successful update or delete of an ARRAY_OF_MAPS / HASH_OF_MAPS
// slot). That covers non-sleepable programs only, which the balancer is (XDP); a sleepable
// program reading these maps would need synchronize_rcu_tasks_trace() first. A reused fast
// map keeps its old entries past the table's M + 1: the program reads only [0, M].
#pragma once

#include <cstddef>
#include <cstdint>
#include <future>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"

namespace rail::dataplane {

// One BPF_F_MMAPABLE ARRAY of u32, mapped for as long as it lives. Move-only.
class InnerTableMap {
 public:
  // `entries` u32 values; `inner_template` adds BPF_F_INNER_MAP (the outer map of tables whose
  // size varies). Errors: kSystem with the kernel's reason (`what` names the table).
  static Result<InnerTableMap> create(uint32_t entries, bool inner_template,
                                      const std::string& what);
  InnerTableMap(InnerTableMap&& other) noexcept;
  InnerTableMap& operator=(InnerTableMap&& other) noexcept;
  InnerTableMap(const InnerTableMap&) = delete;
  InnerTableMap& operator=(const InnerTableMap&) = delete;
  ~InnerTableMap();

  int fd() const { return fd_.get(); }
  uint32_t entries() const { return entries_; }
  bool inner_template() const { return inner_template_; }
  // Writes values[i] to entry i (values.size() <= entries()); later entries keep what they
  // held. Only while no program can read this map (new, or spare from the pool).
  void write(std::span<const uint32_t> values);

 private:
  InnerTableMap(UniqueFd fd, uint8_t* mem, size_t bytes, uint32_t entries, bool inner_template)
      : fd_(std::move(fd)),
        mem_(mem),
        bytes_(bytes),
        entries_(entries),
        inner_template_(inner_template) {}
  UniqueFd fd_;
  uint8_t* mem_ = nullptr;  // the map's values, 8 bytes apart (the kernel's array stride)
  size_t bytes_ = 0;
  uint32_t entries_ = 0;
  bool inner_template_ = false;
};

class MaglevMapPool {
 public:
  // A spare map of that shape whose grace period is over, else a new one.
  Result<InnerTableMap> take(uint32_t entries, bool inner_template, const std::string& what);
  // `map` left its slot by the update `done` stands for (0 or an errno when it completes): it
  // becomes spare once `done` is ready. At most kMaxSpares are kept; the rest are closed.
  void retire(InnerTableMap map, std::shared_future<int> done);
  size_t spares() const { return spares_.size(); }

  static constexpr size_t kMaxSpares = 4;

 private:
  void collect();  // moves maps whose grace period is over to spares_

  struct Cooling {
    InnerTableMap map;
    std::shared_future<int> done;
  };
  std::vector<Cooling> cooling_;
  std::vector<InnerTableMap> spares_;
};

}  // namespace rail::dataplane
