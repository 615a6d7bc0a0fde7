// Map updates and deletes as Status, shared by the XdpDataPlane translation units.
#pragma once

#include <bpf/bpf.h>

#include <cerrno>
#include <string>

#include "core/result.h"
#include "dataplane/libbpf_error.h"

namespace rail::dataplane {

// BPF_ANY update; a full map is kOutOfRange.
inline Status update(int fd, const void* key, const void* value, const std::string& what) {
  if (bpf_map_update_elem(fd, key, value, BPF_ANY) != 0) {
    if (errno == E2BIG) return make_error(ErrorCode::kOutOfRange, what + ": map is full");
    return errno_error(what);
  }
  return ok();
}

// A key already absent is not an error.
inline Status remove(int fd, const void* key, const std::string& what) {
  if (bpf_map_delete_elem(fd, key) != 0 && errno != ENOENT) return errno_error(what);
  return ok();
}

}  // namespace rail::dataplane
