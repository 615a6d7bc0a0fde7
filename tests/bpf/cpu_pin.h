// Pinning the test thread to one CPU: BPF_PROG_TEST_RUN runs the program on the caller's CPU,
// and the flow cache is per CPU, so tests that must meet (or miss) a slot stay on one.
#pragma once

#include <sched.h>

#include <gtest/gtest.h>

#include <vector>

namespace rail::golden {

// The CPUs this thread may run on, lowest first.
inline std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

// Moves the calling thread to `cpu` (BPF_PROG_TEST_RUN runs the program on the caller's CPU).
inline void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ASSERT_EQ(sched_setaffinity(0, sizeof(set), &set), 0) << "pin to CPU " << cpu;
  ASSERT_EQ(sched_getcpu(), cpu);
}

// Pins the calling thread to the first CPU it may run on for the life of this object, then
// restores the affinity it had.
class ScopedCpuPin {
 public:
  ScopedCpuPin() {
    CPU_ZERO(&saved_);
    if (sched_getaffinity(0, sizeof(saved_), &saved_) != 0) return;
    saved_ok_ = true;
    const std::vector<int> cpus = allowed_cpus();
    if (!cpus.empty()) pin_to(cpus.front());
  }
  ~ScopedCpuPin() {
    if (saved_ok_) sched_setaffinity(0, sizeof(saved_), &saved_);
  }
  ScopedCpuPin(const ScopedCpuPin&) = delete;
  ScopedCpuPin& operator=(const ScopedCpuPin&) = delete;

 private:
  cpu_set_t saved_;
  bool saved_ok_ = false;
};

}  // namespace rail::golden
