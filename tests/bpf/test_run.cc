// test_run(): bpf_prog_test_run_opts with data_in/data_out sized for a grown frame.
#include "test_run.h"

#include <bpf/bpf.h>

#include <cerrno>

#include "dataplane/libbpf_error.h"

namespace rail::bpftest {

Result<TestRunResult> test_run(int prog_fd, std::span<const uint8_t> frame, uint32_t repeat) {
  if (frame.size() < 14) {
    return make_error(ErrorCode::kInvalidArgument,
                      "test frame of " + std::to_string(frame.size()) + " bytes < 14");
  }
  // Room for a program that grows the frame (encapsulation, ICMP replies).
  std::vector<uint8_t> out(frame.size() + 512);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
              .data_size_in = static_cast<__u32>(frame.size()),
              .data_size_out = static_cast<__u32>(out.size()), .repeat = static_cast<int>(repeat));
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
    return dataplane::errno_error("BPF_PROG_TEST_RUN on prog fd " + std::to_string(prog_fd));
  }
  out.resize(opts.data_size_out);
  return TestRunResult{opts.retval, std::move(out), opts.duration};
}

}  // namespace rail::bpftest
