// Turning libbpf / errno failures into rail::Error with libbpf's own error text.
#pragma once

#include <string>

#include "core/result.h"

namespace rail::dataplane {

// `err` is a negative errno as returned by libbpf 1.x (or a positive errno).
// EPERM/EACCES map to kPermission, ENOENT/ENODEV to kNotFound, EOPNOTSUPP to kUnsupported,
// EEXIST to kAlreadyExists, anything else to kSystem. The message is "<what>: <libbpf text>".
Error libbpf_error(const std::string& what, int err);

// The same for a failed libc call that set errno.
Error errno_error(const std::string& what);

}  // namespace rail::dataplane
