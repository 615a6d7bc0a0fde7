// XdpAttachment: bpf_link_create(BPF_XDP) in driver mode, falling back to skb (generic) mode.
#include "dataplane/xdp_attachment.h"

#include <bpf/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "dataplane/libbpf_error.h"

namespace rail::dataplane {

const char* to_string(XdpMode mode) {
  switch (mode) {
    case XdpMode::kNative:
      return "native";
    case XdpMode::kGeneric:
      return "generic";
    case XdpMode::kNativeOrGeneric:
      return "native-or-generic";
  }
  return "?";
}

namespace {

// Returns the link fd or a negative errno.
int create_link(int prog_fd, int ifindex, __u32 xdp_flags) {
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = xdp_flags);
  int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
  return fd < 0 ? -errno : fd;
}

}  // namespace

Result<XdpAttachment> XdpAttachment::attach(const std::string& ifname, int prog_fd, XdpMode mode) {
  int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (ifindex == 0) return make_error(ErrorCode::kNotFound, "no interface named " + ifname);

  std::string what = "attach XDP to " + ifname;
  if (mode != XdpMode::kGeneric) {
    int fd = create_link(prog_fd, ifindex, XDP_FLAGS_DRV_MODE);
    if (fd >= 0) return XdpAttachment(fd, ifindex, ifname, XdpMode::kNative);
    // EPERM/EBUSY/EEXIST would fail the same way in generic mode: report them as they are.
    bool driver_refused = fd == -EOPNOTSUPP || fd == -EINVAL;
    if (mode == XdpMode::kNative || !driver_refused) {
      if (fd == -EBUSY) fd = -EEXIST;
      Error e = libbpf_error(what + " (native)", fd);
      if (mode == XdpMode::kNative && driver_refused) e.code = ErrorCode::kUnsupported;
      return e;
    }
  }
  int fd = create_link(prog_fd, ifindex, XDP_FLAGS_SKB_MODE);
  if (fd < 0) {
    if (fd == -EBUSY) fd = -EEXIST;
    return libbpf_error(what + " (generic)", fd);
  }
  return XdpAttachment(fd, ifindex, ifname, XdpMode::kGeneric);
}

XdpAttachment::XdpAttachment(XdpAttachment&& other) noexcept
    : link_fd_(std::exchange(other.link_fd_, -1)),
      ifindex_(other.ifindex_),
      ifname_(std::move(other.ifname_)),
      mode_(other.mode_) {}

XdpAttachment& XdpAttachment::operator=(XdpAttachment&& other) noexcept {
  if (this != &other) {
    detach();
    link_fd_ = std::exchange(other.link_fd_, -1);
    ifindex_ = other.ifindex_;
    ifname_ = std::move(other.ifname_);
    mode_ = other.mode_;
  }
  return *this;
}

XdpAttachment::~XdpAttachment() {
  detach();
}

void XdpAttachment::detach() {
  // Closing the last fd of an XDP link detaches the program (kernel bpf_xdp_link_release).
  if (link_fd_ >= 0) close(std::exchange(link_fd_, -1));
}

}  // namespace rail::dataplane
