// TcAttachment: libbpf's bpf_tc_* netlink API (clsact qdisc + direct-action cls_bpf filter).
#include "dataplane/tc_attachment.h"

#include <bpf/libbpf.h>
#include <net/if.h>

#include <cerrno>
#include <utility>

#include "dataplane/libbpf_error.h"

namespace rail::dataplane {

namespace {

bpf_tc_attach_point attach_point(TcDirection d) {
  return d == TcDirection::kIngress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

}  // namespace

Result<TcAttachment> TcAttachment::attach(const std::string& ifname, int prog_fd,
                                          TcDirection direction) {
  int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (ifindex == 0) return make_error(ErrorCode::kNotFound, "no interface named " + ifname);
  auto netns = NetnsFd::current();
  if (!netns) return netns.error();

  TcAttachment a;
  a.ifindex_ = ifindex;
  a.ifname_ = ifname;
  a.direction_ = direction;
  a.netns_ = std::move(*netns);

  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = attach_point(direction));
  int err = bpf_tc_hook_create(&hook);
  if (err == 0) {
    a.created_hook_ = true;
  } else if (err != -EEXIST) {
    return libbpf_error("create clsact qdisc on " + ifname, err);
  }
  // handle/priority 0: the kernel picks free ones and libbpf reports them back.
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
  err = bpf_tc_attach(&hook, &opts);
  if (err != 0) {
    Error e = libbpf_error("attach tc program to " + ifname, err);
    (void)a.detach();  // removes the clsact qdisc if we made it
    return e;
  }
  a.attached_ = true;
  a.handle_ = opts.handle;
  a.priority_ = opts.priority;
  return a;
}

TcAttachment::TcAttachment(TcAttachment&& other) noexcept
    : attached_(std::exchange(other.attached_, false)),
      created_hook_(std::exchange(other.created_hook_, false)),
      ifindex_(other.ifindex_),
      ifname_(std::move(other.ifname_)),
      direction_(other.direction_),
      handle_(other.handle_),
      priority_(other.priority_),
      netns_(std::move(other.netns_)) {}

TcAttachment& TcAttachment::operator=(TcAttachment&& other) noexcept {
  if (this != &other) {
    (void)detach();
    attached_ = std::exchange(other.attached_, false);
    created_hook_ = std::exchange(other.created_hook_, false);
    ifindex_ = other.ifindex_;
    ifname_ = std::move(other.ifname_);
    direction_ = other.direction_;
    handle_ = other.handle_;
    priority_ = other.priority_;
    netns_ = std::move(other.netns_);
  }
  return *this;
}

TcAttachment::~TcAttachment() {
  (void)detach();
}

Status TcAttachment::detach() {
  if (!attached_ && !created_hook_) return ok();
  auto undo = [this]() -> Status {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex_, .attach_point = attach_point(direction_));
    Status status;
    if (attached_) {
      LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle_, .priority = priority_);
      int err = bpf_tc_detach(&hook, &opts);
      // ENOENT/ENODEV: the filter or the whole device is already gone (e.g. netns deleted).
      if (err != 0 && err != -ENOENT && err != -ENODEV && err != -EINVAL) {
        status = libbpf_error("detach tc program from " + ifname_, err);
      }
    }
    if (created_hook_) {
      hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      int err = bpf_tc_hook_destroy(&hook);
      if (err != 0 && err != -ENOENT && err != -ENODEV && err != -EINVAL && status) {
        status = libbpf_error("remove clsact qdisc from " + ifname_, err);
      }
    }
    return status;
  };
  Status status = (netns_.get() < 0 || netns_.is_current()) ? undo() : run_in_netns(netns_, undo);
  attached_ = false;
  created_hook_ = false;
  return status;
}

}  // namespace rail::dataplane
