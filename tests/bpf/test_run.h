// BPF_PROG_TEST_RUN harness: run a loaded program on one frame, get verdict + output bytes.
//
// The kernel builds a real xdp_buff (XDP) or sk_buff (tc/SCHED_CLS) around `frame`, runs the
// verified program `repeat` times, and copies the (possibly resized) frame back. This tests
// the exact object that will be attached, with the real helpers, without any interface.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"

namespace rail::bpftest {

struct TestRunResult {
  uint32_t retval = 0;          // XDP_* or TC_ACT_* of the last run
  std::vector<uint8_t> output;  // the frame after the program (data_out)
  uint32_t duration_ns = 0;     // mean run time per repetition, as measured by the kernel
};

// `frame` must be at least 14 bytes (the kernel refuses shorter test inputs).
// Errors: kInvalidArgument (frame too short), kSystem (the kernel refused the run).
Result<TestRunResult> test_run(int prog_fd, std::span<const uint8_t> frame, uint32_t repeat = 1);

}  // namespace rail::bpftest
