// RouterGreEncap: the testbed router's GRE encapsulator (bpf/router_gre_encap.bpf.c) loaded,
// configured and attached to tc egress of the router's fabric interface.
//
// The router's ECMP route picks a Rail node (the frame's Ethernet destination); this program
// wraps packets for VIP prefixes in outer IP + GRE towards that node's ingress address, which
// is what Rail's "GRE ingress" expects (docs/packet-path.md §2.3). See docs/router-encap.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/net/address.h"
#include "core/result.h"
#include "dataplane/tc_attachment.h"
#include "rail_router_encap.h"

namespace rail::testbed {

// An address prefix such as 198.18.100.0/24 or 2001:db8:100::/48. Bits after `length` may be
// set (the LPM map ignores them).
struct IpPrefix {
  IpAddress address;
  uint8_t length = 0;  // 0..32 (IPv4) or 0..128 (IPv6)

  // "198.18.100.0/24", "2001:db8:100::/48"; a bare address means /32 or /128.
  static Result<IpPrefix> parse(std::string_view text);
  std::string to_string() const;
};

struct RouterEncapOptions {
  // Outer source addresses (the router's fabric address). A family left unset is written as
  // the zero address; set both if both families are encapsulated.
  std::optional<IpAddress> outer_source_v4;
  std::optional<IpAddress> outer_source_v6;
};

struct RouterEncapCounter {
  uint64_t packets = 0;
  uint64_t bytes = 0;  // frame bytes before encapsulation
};

// Summed over all CPUs.
struct RouterEncapCounters {
  RouterEncapCounter encapsulated;  // wrapped in GRE towards a node
  RouterEncapCounter passed;        // not for a node / not a VIP / not IP: untouched
  RouterEncapCounter errors;        // the kernel refused to grow the frame: sent on untouched
  RouterEncapCounter too_big;       // over the interface MTU once encapsulated: sent on plain
};

class RouterGreEncap {
 public:
  using Counters = RouterEncapCounters;

  // Opens the skeleton, writes the outer sources, loads (verifier). Errors: kInvalidArgument
  // (an outer source of the wrong family), libbpf's errors (kPermission, kSystem...).
  static Result<RouterGreEncap> load(const RouterEncapOptions& options);

  RouterGreEncap(RouterGreEncap&&) noexcept;
  RouterGreEncap& operator=(RouterGreEncap&&) noexcept;
  RouterGreEncap(const RouterGreEncap&) = delete;
  RouterGreEncap& operator=(const RouterGreEncap&) = delete;
  ~RouterGreEncap();

  // Packets whose destination is inside `prefix` are encapsulated (when for a node).
  // At most RAIL_ROUTER_ENCAP_MAX_PREFIXES per family.
  Status add_vip_prefix(const IpPrefix& prefix);
  Status add_vip_prefix(const IpAddress& address, uint8_t length) {
    return add_vip_prefix(IpPrefix{address, length});
  }
  Status remove_vip_prefix(const IpPrefix& prefix);

  // A Rail node by the MAC the router's neighbour entry gives it, with its GRE ingress
  // addresses: IPv4 inner packets go to `v4`, IPv6 inner packets to `v6`; a family without an
  // address passes untouched. Replaces an existing entry. Errors: kInvalidArgument (no address,
  // wrong family), kOutOfRange (more than RAIL_ROUTER_ENCAP_MAX_NODES nodes).
  Status add_node(const MacAddress& mac, std::optional<IpAddress> v4, std::optional<IpAddress> v6);
  Status remove_node(const MacAddress& mac);  // kNotFound if unknown

  // tc clsact egress of `ifname` in the calling thread's network namespace; detached on
  // destruction (the namespace is remembered, see TcAttachment). May be called for several
  // interfaces.
  Status attach_tc_egress(const std::string& ifname);
  void detach_all();

  Result<Counters> counters() const;

  // The program fd, e.g. for BPF_PROG_TEST_RUN.
  int prog_fd() const;

 private:
  struct Owner;
  explicit RouterGreEncap(std::unique_ptr<Owner> owner);

  // Declared first, destroyed last: attachments go before the program they reference.
  std::unique_ptr<Owner> owner_;
  std::vector<dataplane::TcAttachment> tc_;
};

}  // namespace rail::testbed
