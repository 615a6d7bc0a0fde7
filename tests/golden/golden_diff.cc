// describe_difference(): see golden_diff.h.
#include "golden/golden_diff.h"

#include <algorithm>
#include <cstdio>

namespace rail::golden {

std::string describe_difference(const Bytes& got, const Bytes& want) {
  std::string out =
      "sizes got " + std::to_string(got.size()) + " want " + std::to_string(want.size());
  int shown = 0;
  for (size_t i = 0; i < std::max(got.size(), want.size()) && shown < 8; ++i) {
    const int g = i < got.size() ? got[i] : -1, w = i < want.size() ? want[i] : -1;
    if (g == w) continue;
    char buf[80];
    std::snprintf(buf, sizeof buf, "\n  offset %zu: got %d want %d", i, g, w);
    out += buf;
    ++shown;
  }
  return out;
}

}  // namespace rail::golden
