// Jittered check scheduling arithmetic.
#include "daemon/health/check_timing.h"

#include <algorithm>

namespace rail::health {
namespace {

using Micros = std::chrono::microseconds;

Micros scaled(Millis interval, double factor) {
  return Micros(static_cast<int64_t>(static_cast<double>(Micros(interval).count()) * factor));
}

double clamp_jitter(double jitter) {
  return std::clamp(jitter, 0.0, 0.5);
}

}  // namespace

TimePoint first_check_time(TimePoint now, Millis interval, double jitter, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, clamp_jitter(jitter));
  return now + scaled(interval, u(rng));
}

TimePoint next_check_time(TimePoint start, TimePoint end, Millis interval, double jitter,
                          std::mt19937_64& rng) {
  double j = clamp_jitter(jitter);
  std::uniform_real_distribution<double> u(-j, j);
  return std::max(start + scaled(interval, 1.0 + u(rng)), end);
}

}  // namespace rail::health
