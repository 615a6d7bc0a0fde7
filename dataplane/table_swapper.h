// TableSwapper: long-lived threads that make the outer-map updates of Maglev table swaps.
//
// The kernel's update of an ARRAY_OF_MAPS slot exchanges the pointer at once, then waits one
// RCU grace period (8-16 ms on the 2-core VM) before the system call returns. XdpDataPlane
// hands that call to a worker here and returns as soon as the slot shows the new map. Workers
// stay (a thread created per swap had to be scheduled first: ~1 ms median, up to ~16 ms under
// load, docs/raild.md); a new one starts only when every worker is still inside a grace
// period. The destructor waits for every update started.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace rail::dataplane {

class TableSwapper {
 public:
  TableSwapper() = default;
  ~TableSwapper();
  TableSwapper(const TableSwapper&) = delete;
  TableSwapper& operator=(const TableSwapper&) = delete;

  // Starts bpf_map_update_elem(outer_fd, &slot, &inner_fd) on a worker, or with inner_fd
  // kClear bpf_map_delete_elem(outer_fd, &slot) (which waits out a grace period the same way):
  // the future gets 0 or the call's errno. Without a worker to be had, the call runs in the
  // caller (and the future is ready on return).
  static constexpr int kClear = -1;
  std::future<int> start(int outer_fd, uint32_t slot, int inner_fd);

 private:
  struct Job {
    int outer_fd;
    uint32_t slot;
    int inner_fd;
    std::promise<int> done;
  };
  static int update(const Job& job);
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  size_t idle_ = 0;  // workers waiting for a job
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace rail::dataplane
