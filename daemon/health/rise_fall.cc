// Consecutive-result counting for RiseFall.
#include "daemon/health/rise_fall.h"

#include <algorithm>

namespace rail::health {

RiseFall::RiseFall(uint32_t rise, uint32_t fall, BackendState initial)
    : rise_(std::max(rise, 1u)), fall_(std::max(fall, 1u)), up_(initial == BackendState::kUp) {}

bool RiseFall::record(bool ok) {
  if (ok) {
    failures_ = 0;
    successes_ = successes_ < UINT32_MAX ? successes_ + 1 : successes_;
    if (!up_ && successes_ >= rise_) {
      up_ = true;
      return true;
    }
  } else {
    successes_ = 0;
    failures_ = failures_ < UINT32_MAX ? failures_ + 1 : failures_;
    if (up_ && failures_ >= fall_) {
      up_ = false;
      return true;
    }
  }
  return false;
}

void RiseFall::set_thresholds(uint32_t rise, uint32_t fall) {
  rise_ = std::max(rise, 1u);
  fall_ = std::max(fall, 1u);
  successes_ = 0;
  failures_ = 0;
}

}  // namespace rail::health
