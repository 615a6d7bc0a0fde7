// TableSwapper: the worker threads (one outer-map update at a time each).
#include "dataplane/table_swapper.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace rail::dataplane {
namespace {

// A swap queued behind a worker still in a grace period would wait it out (8-16 ms, more
// under load): back-to-back changes keep a few workers busy at once.
constexpr size_t kMaxWorkers = 16;

}  // namespace

TableSwapper::~TableSwapper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();  // workers finish the queue first
}

int TableSwapper::update(const Job& job) {
  if (job.inner_fd == kClear) return bpf_map_delete_elem(job.outer_fd, &job.slot) == 0 ? 0 : errno;
  return bpf_map_update_elem(job.outer_fd, &job.slot, &job.inner_fd, BPF_ANY) == 0 ? 0 : errno;
}

std::future<int> TableSwapper::start(int outer_fd, uint32_t slot, int inner_fd) {
  Job job{outer_fd, slot, inner_fd, {}};
  std::future<int> result = job.done.get_future();
  {
    std::lock_guard lock(mu_);
    if (idle_ <= jobs_.size() && workers_.size() < kMaxWorkers) {
      try {
        workers_.emplace_back([this] { run(); });
      } catch (const std::system_error&) {
        if (workers_.empty()) {  // no thread at all: run the update here
          job.done.set_value(update(job));
          return result;
        }
      }
    }
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return result;
}

void TableSwapper::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;  // stop_ and nothing left
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job.done.set_value(update(job));
    lock.lock();
  }
}

}  // namespace rail::dataplane
