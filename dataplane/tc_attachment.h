// TcAttachment: a tc (clsact) BPF classifier attached to one interface's ingress or egress.
#pragma once

#include <string>

#include "core/result.h"
#include "dataplane/netns_exec.h"

namespace rail::dataplane {

enum class TcDirection { kIngress, kEgress };

// Created with bpf_tc_hook_create (the clsact qdisc, if missing) + bpf_tc_attach (a direct-
// action filter). The destructor detaches our filter and, if this object created the clsact
// qdisc, removes it again. tc filters are netlink objects of a namespace, so the namespace
// of attach() is remembered and the teardown runs there even from another thread. Move-only.
class TcAttachment {
 public:
  // Errors: kNotFound (no such interface), kPermission, kSystem (libbpf's text).
  static Result<TcAttachment> attach(const std::string& ifname, int prog_fd,
                                     TcDirection direction = TcDirection::kIngress);

  TcAttachment(TcAttachment&& other) noexcept;
  TcAttachment& operator=(TcAttachment&& other) noexcept;
  TcAttachment(const TcAttachment&) = delete;
  TcAttachment& operator=(const TcAttachment&) = delete;
  ~TcAttachment();

  int ifindex() const { return ifindex_; }
  const std::string& ifname() const { return ifname_; }
  TcDirection direction() const { return direction_; }
  // Detaches now (idempotent). Errors are reported, not thrown; the object is inert after.
  Status detach();

 private:
  TcAttachment() = default;

  bool attached_ = false;
  bool created_hook_ = false;
  int ifindex_ = 0;
  std::string ifname_;
  TcDirection direction_ = TcDirection::kIngress;
  unsigned handle_ = 0;
  unsigned priority_ = 0;
  NetnsFd netns_;
};

}  // namespace rail::dataplane
