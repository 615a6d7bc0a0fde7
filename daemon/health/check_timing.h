// When checks run: the first check after registration and each next one, with jitter (pure;
// time and randomness are passed in so tests pin them).
//
// Jitter spreads checks of many backends with the same interval over time, so N backends
// added by one config load are not all probed in the same millisecond forever after.
#pragma once

#include <chrono>
#include <random>

#include "daemon/health/health_spec.h"

namespace rail::health {

using TimePoint = std::chrono::steady_clock::time_point;

// now + uniform[0, jitter * interval]: soon, but spread.
TimePoint first_check_time(TimePoint now, Millis interval, double jitter, std::mt19937_64& rng);

// start + interval * (1 + uniform[-jitter, +jitter]), never before `end` (the previous check's
// completion): intervals are measured start to start, so a slow backend is not checked less
// often, and one target never has two checks in flight.
TimePoint next_check_time(TimePoint start, TimePoint end, Millis interval, double jitter,
                          std::mt19937_64& rng);

}  // namespace rail::health
