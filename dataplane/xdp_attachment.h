// XdpAttachment: an XDP program attached to one interface for as long as the object lives.
#pragma once

#include <string>

#include "core/result.h"

namespace rail::dataplane {

enum class XdpMode {
  kNative,           // driver mode only (XDP_FLAGS_DRV_MODE)
  kGeneric,          // skb mode only (XDP_FLAGS_SKB_MODE): slow, works on any device
  kNativeOrGeneric,  // try native, fall back to generic if the driver refuses
};

const char* to_string(XdpMode mode);

// Attached through a BPF link (BPF_LINK_CREATE, kernel >= 5.9): the link fd owns the
// attachment, so closing it detaches exactly our program, from any thread or namespace, and
// a crash of the process detaches it too. Move-only.
class XdpAttachment {
 public:
  // `ifname` is resolved in the calling thread's network namespace.
  // Errors: kNotFound (no such interface), kPermission (no CAP_NET_ADMIN/CAP_BPF),
  // kAlreadyExists (another XDP program is attached), kUnsupported (native mode refused and
  // no fallback allowed), kSystem otherwise; messages carry libbpf's error text.
  static Result<XdpAttachment> attach(const std::string& ifname, int prog_fd,
                                      XdpMode mode = XdpMode::kNativeOrGeneric);

  XdpAttachment(XdpAttachment&& other) noexcept;
  XdpAttachment& operator=(XdpAttachment&& other) noexcept;
  XdpAttachment(const XdpAttachment&) = delete;
  XdpAttachment& operator=(const XdpAttachment&) = delete;
  ~XdpAttachment();

  // The mode actually in use: kNative or kGeneric.
  XdpMode mode() const { return mode_; }
  int ifindex() const { return ifindex_; }
  const std::string& ifname() const { return ifname_; }
  // Detaches now (idempotent).
  void detach();

 private:
  XdpAttachment(int link_fd, int ifindex, std::string ifname, XdpMode mode)
      : link_fd_(link_fd), ifindex_(ifindex), ifname_(std::move(ifname)), mode_(mode) {}

  int link_fd_ = -1;
  int ifindex_ = 0;
  std::string ifname_;
  XdpMode mode_ = XdpMode::kNative;
};

}  // namespace rail::dataplane
