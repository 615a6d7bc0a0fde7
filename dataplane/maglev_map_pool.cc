// InnerTableMap and MaglevMapPool (see maglev_map_pool.h).
#include "dataplane/maglev_map_pool.h"

#include <bpf/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <utility>

#include "dataplane/libbpf_error.h"

namespace rail::dataplane {
namespace {

constexpr size_t kStride = 8;  // the kernel stores array values 8-byte aligned

}  // namespace

Result<InnerTableMap> InnerTableMap::create(uint32_t entries, bool inner_template,
                                            const std::string& what) {
  const uint32_t flags = BPF_F_MMAPABLE | (inner_template ? uint32_t(BPF_F_INNER_MAP) : 0u);
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
  const int created = bpf_map_create(BPF_MAP_TYPE_ARRAY, "rail_maglev", sizeof(uint32_t),
                                     sizeof(uint32_t), entries, &opts);
  if (created < 0) return libbpf_error("create " + what, created);
  UniqueFd fd(created);
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  const size_t bytes = (size_t(entries) * kStride + page - 1) / page * page;
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (mem == MAP_FAILED) return errno_error("mmap " + what);
  return InnerTableMap(std::move(fd), static_cast<uint8_t*>(mem), bytes, entries, inner_template);
}

InnerTableMap::InnerTableMap(InnerTableMap&& other) noexcept
    : fd_(std::move(other.fd_)),
      mem_(std::exchange(other.mem_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      entries_(other.entries_),
      inner_template_(other.inner_template_) {}

InnerTableMap& InnerTableMap::operator=(InnerTableMap&& other) noexcept {
  if (this != &other) {
    if (mem_) munmap(mem_, bytes_);
    fd_ = std::move(other.fd_);
    mem_ = std::exchange(other.mem_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    entries_ = other.entries_;
    inner_template_ = other.inner_template_;
  }
  return *this;
}

InnerTableMap::~InnerTableMap() {
  if (mem_) munmap(mem_, bytes_);
}

void InnerTableMap::write(std::span<const uint32_t> values) {
  for (size_t i = 0; i < values.size() && i < entries_; ++i)
    std::memcpy(mem_ + i * kStride, &values[i], sizeof(uint32_t));
}

void MaglevMapPool::collect() {
  for (auto it = cooling_.begin(); it != cooling_.end();) {
    if (it->done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      ++it;
      continue;
    }
    // Only a completed update (0) is known to have waited out the grace period.
    if (it->done.get() == 0 && spares_.size() < kMaxSpares) spares_.push_back(std::move(it->map));
    it = cooling_.erase(it);
  }
}

Result<InnerTableMap> MaglevMapPool::take(uint32_t entries, bool inner_template,
                                          const std::string& what) {
  collect();
  for (auto it = spares_.begin(); it != spares_.end(); ++it) {
    if (it->entries() != entries || it->inner_template() != inner_template) continue;
    InnerTableMap map = std::move(*it);
    spares_.erase(it);
    return map;
  }
  return InnerTableMap::create(entries, inner_template, what);
}

void MaglevMapPool::retire(InnerTableMap map, std::shared_future<int> done) {
  collect();
  cooling_.push_back(Cooling{std::move(map), std::move(done)});
}

}  // namespace rail::dataplane
