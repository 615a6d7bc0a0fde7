// RiseFall: the up/down state of one target from consecutive check results (pure, no clock).
//
// Down -> up after `rise` consecutive successes; up -> down after `fall` consecutive failures.
// A result that agrees with the current state resets the opposite streak, so a flapping
// backend (ok, fail, ok, fail) never changes state with rise, fall >= 2.
#pragma once

#include <cstdint>

#include "core/lb_config.h"

namespace rail::health {

class RiseFall {
 public:
  RiseFall(uint32_t rise, uint32_t fall, BackendState initial);

  // Counts one check result; true if it changed the state.
  bool record(bool ok);
  // New thresholds (config reload): the state is kept, the streaks restart.
  void set_thresholds(uint32_t rise, uint32_t fall);

  BackendState state() const { return up_ ? BackendState::kUp : BackendState::kDown; }
  uint32_t successes() const { return successes_; }  // current streak of successes
  uint32_t failures() const { return failures_; }    // current streak of failures

 private:
  uint32_t rise_;
  uint32_t fall_;
  bool up_;
  uint32_t successes_ = 0;
  uint32_t failures_ = 0;
};

}  // namespace rail::health
