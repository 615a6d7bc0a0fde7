// XdpAttachment: an XDP program attached to one interface, for as long as the object lives or,
// when pinned in bpffs, until explicitly detached (so forwarding outlives the process).
#pragma once

#include <string>

#include "core/result.h"
#include "core/unique_fd.h"

namespace rail::dataplane {

enum class XdpMode {
  kNative,           // driver mode only (XDP_FLAGS_DRV_MODE)
  kGeneric,          // skb mode only (XDP_FLAGS_SKB_MODE): slow, works on any device
  kNativeOrGeneric,  // try native, fall back to generic if the driver refuses
};

const char* to_string(XdpMode mode);

// Attached through a BPF link (BPF_LINK_CREATE, kernel >= 5.9): the link fd owns the
// attachment, so closing it detaches exactly our program, from any thread or namespace, and
// a crash of the process detaches it too. A *pinned* attachment (attach_pinned) is held by
// its bpffs pin instead: the object's end (or a crash) leaves the program running, and the next
// attach_pinned() adopts the link and swaps the program atomically. Move-only.
class XdpAttachment {
 public:
  // `ifname` is resolved in the calling thread's network namespace.
  // Errors: kNotFound (no such interface), kPermission (no CAP_NET_ADMIN/CAP_BPF),
  // kAlreadyExists (another XDP program is attached), kUnsupported (native mode refused and
  // no fallback allowed), kSystem otherwise; messages carry libbpf's error text.
  static Result<XdpAttachment> attach(const std::string& ifname, int prog_fd,
                                      XdpMode mode = XdpMode::kNativeOrGeneric);

  // Like attach(), but the link is pinned at `pin_path` (bpffs). If a link to the same
  // interface is already pinned there, it is adopted: its program is replaced by `prog_fd` in
  // one BPF_LINK_UPDATE (packets see the old program or the new one, never none) and its mode
  // is kept, whatever `mode` asks. A stale pin (another interface, or one that was deleted) is
  // replaced.
  static Result<XdpAttachment> attach_pinned(const std::string& ifname, int prog_fd, XdpMode mode,
                                             const std::string& pin_path);

  // Move-only. Destroying it drops this object's reference to the link: closing the last
  // reference detaches the program (bpf_xdp_link_release); a pin is a reference too, so a
  // pinned link keeps forwarding.

  // The mode actually in use: kNative or kGeneric.
  XdpMode mode() const { return mode_; }
  int ifindex() const { return ifindex_; }
  const std::string& ifname() const { return ifname_; }
  const std::string& pin_path() const { return pin_path_; }
  // True if attach_pinned() found the link already there (a restart) rather than creating it.
  bool adopted() const { return adopted_; }
  // Detaches now, pinned or not (removes the pin): the operator's "stop forwarding".
  // Idempotent.
  void detach();

 private:
  XdpAttachment(int link_fd, int ifindex, std::string ifname, XdpMode mode)
      : link_fd_(link_fd), ifindex_(ifindex), ifname_(std::move(ifname)), mode_(mode) {}
  UniqueFd link_fd_;
  int ifindex_ = 0;
  std::string ifname_;
  XdpMode mode_ = XdpMode::kNative;
  std::string pin_path_;  // empty: not pinned
  bool adopted_ = false;
};

}  // namespace rail::dataplane
