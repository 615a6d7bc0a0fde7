// Running code in a given network namespace from any thread (setns on a helper thread).
//
// Netlink-based operations (tc attach/detach, ifindex lookups) act on the CALLING THREAD's
// network namespace. RAII owners that may be destroyed on another thread remember the
// namespace they were created in and use run_in_netns() to undo their work there.
#pragma once

#include <functional>

#include "core/result.h"
#include "core/unique_fd.h"

namespace rail::dataplane {

// An owned fd of a network namespace (move-only) (open on /proc/thread-self/ns/net or
// /run/netns/NAME).
class NetnsFd {
 public:
  NetnsFd() = default;
  explicit NetnsFd(int fd) : fd_(fd) {}

  // The namespace of the calling thread.
  static Result<NetnsFd> current();
  // A namespace by path, e.g. "/run/netns/rail-abc".
  static Result<NetnsFd> open(const std::string& path);

  int get() const { return fd_.get(); }
  int release() { return fd_.release(); }
  // True if the calling thread is in this namespace (same nsfs inode).
  bool is_current() const;

 private:
  UniqueFd fd_;
};

// Runs `fn` on a short-lived thread that first joins `netns`; returns fn's status (or the
// setns failure). Blocking; the calling thread's own namespace is never changed.
Status run_in_netns(const NetnsFd& netns, const std::function<Status()>& fn);

}  // namespace rail::dataplane
