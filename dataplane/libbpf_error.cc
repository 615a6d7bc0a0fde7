// Maps libbpf's negative-errno returns onto Rail's ErrorCode, keeping libbpf's error text.
#include "dataplane/libbpf_error.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdlib>

namespace rail::dataplane {

Error libbpf_error(const std::string& what, int err) {
  int e = std::abs(err);
  char text[256] = {};
  libbpf_strerror(e, text, sizeof(text));
  ErrorCode code = ErrorCode::kSystem;
  switch (e) {
    case EPERM:
    case EACCES:
      code = ErrorCode::kPermission;
      break;
    case ENOENT:
    case ENODEV:
      code = ErrorCode::kNotFound;
      break;
    case EOPNOTSUPP:
      code = ErrorCode::kUnsupported;
      break;
    case EEXIST:
      code = ErrorCode::kAlreadyExists;
      break;
    default:
      break;
  }
  return make_error(code, what + ": " + text + " (errno " + std::to_string(e) + ")");
}

Error errno_error(const std::string& what) {
  return libbpf_error(what, errno);
}

}  // namespace rail::dataplane
