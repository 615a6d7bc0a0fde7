// NextHopResolver implementations: a fixed map, and rtnetlink route + neighbour lookups.
#include "daemon/controller/next_hop_resolver.h"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/unique_fd.h"

namespace rail::daemon {
namespace {

Error sys_error(const std::string& what) {
  return make_error(ErrorCode::kSystem, what + ": " + std::strerror(errno));
}

int family_of(const IpAddress& a) {
  return a.is_v4() ? AF_INET : AF_INET6;
}

IpAddress address_from(int family, const void* data) {
  std::array<uint8_t, 16> b{};
  if (family == AF_INET) {
    std::memcpy(b.data(), data, 4);
    return IpAddress::v4(std::array<uint8_t, 4>{b[0], b[1], b[2], b[3]});
  }
  std::memcpy(b.data(), data, 16);
  return IpAddress::v6(b);
}

// Sends one request and calls `on_msg` for every reply message until DONE (dumps) or the
// single answer (non-dump requests); an NLMSG_ERROR with a code becomes the error.
template <typename OnMsg>
Status transact(void* request, size_t len, OnMsg on_msg) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) return sys_error("netlink socket");
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd.get(), request, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return sys_error("netlink send");
  const bool dump = reinterpret_cast<nlmsghdr*>(request)->nlmsg_flags & NLM_F_DUMP;
  alignas(nlmsghdr) char buf[32768];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("netlink recv");
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, size_t(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return ok();
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        if (e->error == 0) return ok();
        errno = -e->error;
        return sys_error("netlink");
      }
      on_msg(h);
      if (!dump) return ok();
    }
  }
}

// Sends an empty UDP datagram to `address`: the kernel resolves the neighbour first.
void nudge(const IpAddress& address) {
  UniqueFd fd(::socket(family_of(address), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (address.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(9);  // discard
    std::memcpy(&sin->sin_addr, address.data(), 4);
    len = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(9);
    std::memcpy(&sin6->sin6_addr, address.data(), 16);
    len = sizeof *sin6;
  }
  [[maybe_unused]] ssize_t n = ::sendto(fd.get(), "", 0, 0, reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace

void FixedNextHops::set(const IpAddress& address, const MacAddress& mac) {
  std::lock_guard lock(mu_);
  macs_[address] = mac;
}

void FixedNextHops::erase(const IpAddress& address) {
  std::lock_guard lock(mu_);
  macs_.erase(address);
}

std::optional<MacAddress> FixedNextHops::resolve(const IpAddress& backend) {
  std::lock_guard lock(mu_);
  auto it = macs_.find(backend);
  if (it == macs_.end()) return std::nullopt;
  return it->second;
}

Result<std::pair<IpAddress, int>> KernelNextHops::route_to(const IpAddress& destination) {
  struct {
    nlmsghdr h;
    rtmsg r;
    char attrs[64];
  } req{};
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  req.h.nlmsg_type = RTM_GETROUTE;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.r.rtm_family = uint8_t(family_of(destination));
  req.r.rtm_dst_len = destination.is_v4() ? 32 : 128;
  auto* rta =
      reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.h.nlmsg_len));
  rta->rta_type = RTA_DST;
  rta->rta_len = RTA_LENGTH(destination.size());
  std::memcpy(RTA_DATA(rta), destination.data(), destination.size());
  req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(rta->rta_len);

  std::optional<IpAddress> gateway;
  int oif = 0;
  RAIL_TRY(transact(&req, req.h.nlmsg_len, [&](nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWROUTE) return;
    auto* r = static_cast<rtmsg*>(NLMSG_DATA(h));
    int len = int(RTM_PAYLOAD(h));
    for (auto* a = RTM_RTA(r); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      if (a->rta_type == RTA_GATEWAY) gateway = address_from(r->rtm_family, RTA_DATA(a));
      if (a->rta_type == RTA_OIF) std::memcpy(&oif, RTA_DATA(a), sizeof oif);
    }
  }));
  if (oif == 0) return make_error(ErrorCode::kNotFound, "no route to " + destination.to_string());
  return std::pair{gateway.value_or(destination), oif};
}

Result<MacAddress> KernelNextHops::neighbour(const IpAddress& address, int ifindex) {
  struct {
    nlmsghdr h;
    ndmsg n;
  } req{};
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(ndmsg));
  req.h.nlmsg_type = RTM_GETNEIGH;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.n.ndm_family = uint8_t(family_of(address));
  std::optional<MacAddress> found;
  RAIL_TRY(transact(&req, req.h.nlmsg_len, [&](nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWNEIGH || found) return;
    auto* n = static_cast<ndmsg*>(NLMSG_DATA(h));
    if (n->ndm_ifindex != ifindex || (n->ndm_state & (NUD_FAILED | NUD_INCOMPLETE))) return;
    int len = int(h->nlmsg_len - NLMSG_LENGTH(sizeof(ndmsg)));
    std::optional<IpAddress> dst;
    std::optional<MacAddress> mac;
    for (auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(n) + NLMSG_ALIGN(sizeof *n));
         RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == address.size())
        dst = address_from(n->ndm_family, RTA_DATA(a));
      if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
        std::array<uint8_t, 6> b{};
        std::memcpy(b.data(), RTA_DATA(a), 6);
        mac = MacAddress(b);
      }
    }
    if (dst == address && mac && !mac->is_zero()) found = mac;
  }));
  if (!found)
    return make_error(ErrorCode::kNotFound, "no neighbour entry for " + address.to_string());
  return *found;
}

std::optional<MacAddress> KernelNextHops::resolve(const IpAddress& backend) {
  auto route = route_to(backend);
  if (!route) return std::nullopt;
  auto mac = neighbour(route->first, route->second);
  if (mac) return *mac;
  nudge(route->first);
  return std::nullopt;
}

Result<MacAddress> interface_mac(const std::string& ifname) {
  const std::string path = "/sys/class/net/" + ifname + "/address";
  std::ifstream in(path);
  std::string text;
  if (!(in >> text)) return make_error(ErrorCode::kNotFound, "cannot read " + path);
  return MacAddress::parse(text);
}

}  // namespace rail::daemon
