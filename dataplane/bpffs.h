// Mounting the BPF filesystem (bpffs) where pinned maps and links live.
#pragma once

#include <string>

#include "core/result.h"

namespace rail::dataplane {

// Ensures a bpffs is mounted at `dir` (created with mode 0700 if missing). Already a bpffs:
// nothing to do. Something else mounted there: kAlreadyExists. Needs CAP_SYS_ADMIN
// (kPermission otherwise). Never unmounts: pins must outlive the process.
Status ensure_bpffs(const std::string& dir = "/sys/fs/bpf");

// True if `dir` is the root of a mounted bpffs.
bool is_bpffs(const std::string& dir);

}  // namespace rail::dataplane
