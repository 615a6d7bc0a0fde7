// XdpAttachment: bpf_link_create(BPF_XDP) in driver mode, falling back to skb (generic) mode;
// pinned links adopted and updated in place.
#include "dataplane/xdp_attachment.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
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

// The mode of whatever XDP program runs on `ifindex` (an adopted link keeps its own).
XdpMode attached_mode(int ifindex) {
  LIBBPF_OPTS(bpf_xdp_query_opts, query);
  if (bpf_xdp_query(ifindex, 0, &query) == 0 && query.attach_mode == XDP_ATTACHED_SKB)
    return XdpMode::kGeneric;
  return XdpMode::kNative;
}

// The link pinned at `path` if it is an XDP link on `ifindex`: its fd, -1 if there is none or
// the pin is stale (then removed, so a fresh link can take the path).
Result<int> pinned_link(const std::string& path, int ifindex) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    if (errno == ENOENT) return -1;
    return errno_error("open pinned XDP link " + path);
  }
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == BPF_LINK_TYPE_XDP &&
      int(info.xdp.ifindex) == ifindex)
    return fd;
  // A link whose device went away reports ifindex 0: it forwards nothing, so replace it.
  close(fd);
  if (unlink(path.c_str()) != 0) return errno_error("remove stale pin " + path);
  return -1;
}

}  // namespace

Result<XdpAttachment> XdpAttachment::attach_pinned(const std::string& ifname, int prog_fd,
                                                   XdpMode mode, const std::string& pin_path) {
  if (pin_path.empty()) return attach(ifname, prog_fd, mode);
  int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (ifindex == 0) return make_error(ErrorCode::kNotFound, "no interface named " + ifname);
  auto existing = pinned_link(pin_path, ifindex);
  if (!existing) return existing.error();
  if (*existing >= 0) {
    XdpAttachment a(*existing, ifindex, ifname, attached_mode(ifindex));
    a.pin_path_ = pin_path;
    a.adopted_ = true;
    // One BPF_LINK_UPDATE: the kernel swaps the program pointer, nothing is ever detached.
    if (bpf_link_update(*existing, prog_fd, nullptr) != 0)
      return errno_error("replace the XDP program of " + ifname);
    return a;
  }
  auto a = attach(ifname, prog_fd, mode);
  if (!a) return a.error();
  if (bpf_obj_pin(a->link_fd_.get(), pin_path.c_str()) != 0)
    return errno_error("pin XDP link at " + pin_path);  // `a` detaches on the way out
  a->pin_path_ = pin_path;
  return a;
}

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

void XdpAttachment::detach() {
  if (!link_fd_.valid()) return;
  if (!pin_path_.empty()) {
    // BPF_LINK_DETACH detaches even if another process still holds the link (a stale fd).
    bpf_link_detach(link_fd_.get());
    unlink(pin_path_.c_str());
  }
  link_fd_.reset();
}

}  // namespace rail::dataplane
