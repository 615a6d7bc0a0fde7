// Readable byte differences for golden tests: "sizes got 60 want 64" plus the first differing
// offsets, so a failing case says where its frame went wrong.
#pragma once

#include <string>

#include "golden/golden_world.h"

namespace rail::golden {

std::string describe_difference(const Bytes& got, const Bytes& want);

}  // namespace rail::golden
