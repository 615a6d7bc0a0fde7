// Golden packet cases: input frame + config -> expected verdict and output bytes.
//
// THE behavioural specification of a Rail data plane in executable form (docs/packet-path.md).
// The reference forwarder runs them in tests/unit/forwarder_golden_test.cc; the XDP program runs
// the same cases through BPF_PROG_TEST_RUN in tests/bpf/. A case is a config and a sequence of
// steps (later steps see the connection state earlier ones left, and may change the config).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "abi/rail_abi.h"
#include "golden/golden_world.h"

namespace rail::golden {

struct Step {
  std::string what;  // one line: what this packet is and what must happen
  Bytes input;
  rail_verdict verdict = RAIL_VERDICT_PASS;
  rail_drop_reason reason = RAIL_DROP_NONE;    // for DROP
  Bytes output;                                // for TX: the exact frame sent
  std::function<void(LbConfig&)> reconfigure;  // applied before this step, if set
};

struct Case {
  std::string name;  // gtest-friendly: letters, digits, underscores
  LbConfig config;
  std::vector<Step> steps;
};

// Every golden case, in a fixed order.
const std::vector<Case>& golden_cases();

// Step builders: read as "input -> expectation".
Step expect_tx(std::string what, Bytes input, Bytes output);
Step expect_pass(std::string what, Bytes input);
Step expect_drop(std::string what, Bytes input, rail_drop_reason reason);

}  // namespace rail::golden
