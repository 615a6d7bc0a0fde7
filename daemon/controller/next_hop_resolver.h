// NextHopResolver: the MAC a frame towards a backend must carry (the backend's own MAC when it
// is on-link, else its gateway's), from the kernel's routing and neighbour tables.
//
// The data plane writes Ethernet headers itself, so it needs the next hop's MAC for each
// backend; an unresolved backend's packets are dropped as NO_NEXTHOP. The controller asks
// again periodically (refresh_next_hops), and the kernel resolver nudges the kernel to ARP/ND
// for a missing entry, so a fresh backend resolves within a refresh or two.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/net/address.h"
#include "core/result.h"

namespace rail::daemon {

class NextHopResolver {
 public:
  virtual ~NextHopResolver() = default;
  virtual std::optional<MacAddress> resolve(const IpAddress& backend) = 0;
};

// A fixed table (tests, and setups with static neighbours).
class FixedNextHops final : public NextHopResolver {
 public:
  FixedNextHops() = default;
  explicit FixedNextHops(std::map<IpAddress, MacAddress> macs) : macs_(std::move(macs)) {}
  void set(const IpAddress& address, const MacAddress& mac);
  void erase(const IpAddress& address);
  std::optional<MacAddress> resolve(const IpAddress& backend) override;

 private:
  std::mutex mu_;
  std::map<IpAddress, MacAddress> macs_;
};

// The kernel's view over rtnetlink: RTM_GETROUTE for the gateway (if any), then RTM_GETNEIGH
// for that neighbour's MAC. A missing or failed neighbour entry triggers resolution by sending
// one empty UDP datagram towards the next hop (the kernel ARPs/NDs before sending it).
class KernelNextHops final : public NextHopResolver {
 public:
  std::optional<MacAddress> resolve(const IpAddress& backend) override;
  // The next hop the kernel would use for `destination` (the gateway, or itself if on-link)
  // and the output interface index.
  static Result<std::pair<IpAddress, int>> route_to(const IpAddress& destination);
  // The neighbour table's MAC for `address` on interface `ifindex` (REACHABLE, STALE, DELAY,
  // PROBE or PERMANENT); kNotFound if absent or FAILED/INCOMPLETE.
  static Result<MacAddress> neighbour(const IpAddress& address, int ifindex);
};

// The MAC of a local interface (/sys/class/net/NAME/address): node.mac "auto".
Result<MacAddress> interface_mac(const std::string& ifname);

}  // namespace rail::daemon
