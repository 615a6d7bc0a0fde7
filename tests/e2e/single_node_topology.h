// The one-Rail-node live topology of the e2e tests: client, rail and N backends on one bridge.
//
//   client ns  c0 ─┐
//   rail ns    r0 ─┼─ switch ns: br0 (pc, pr, pb0..pbN-1)   pr runs XDP_PASS so r0's XDP_TX works
//   backend ns b0 ─┘ (xN: VIP on lo, DecapProgram on tc ingress, replies go direct: DSR)
//
// Every neighbour entry the data path needs is static (no ARP race): the client's for the Rail
// node, each backend's for the client, and the rail namespace's for each backend (raild takes
// next-hop MACs from the neighbour table). Offloads are off on every veth (VethPair), so the
// client's kernel writes complete checksums and the backends accept decapsulated packets as
// they are (docs/decap.md). Nothing on the Rail node itself: each test brings its own balancer.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "dataplane/decap_program.h"
#include "dataplane/skeleton.h"
#include "dataplane/xdp_attachment.h"
#include "netns.h"
#include "trivial.skel.h"

namespace rail::e2e {

RAIL_BPF_SKELETON_TRAITS(trivial_bpf);

class SingleNodeTopology {
 public:
  static constexpr const char* kClientIp = "198.18.0.10";
  static constexpr const char* kRailIp = "198.18.0.1";
  static constexpr const char* kVip = "198.18.100.1";

  struct Options {
    int backends = 3;
  };

  // Backend i (0-based) is 198.18.0.(21 + i).
  static std::string backend_ip(int i);

  // Builds the whole topology; on error, what was built so far is torn down.
  static Result<std::unique_ptr<SingleNodeTopology>> create(const Options& options);
  // Programs detach (in their namespaces) before the veths and namespaces go.
  ~SingleNodeTopology();
  SingleNodeTopology(const SingleNodeTopology&) = delete;
  SingleNodeTopology& operator=(const SingleNodeTopology&) = delete;

  int backends() const { return options_.backends; }
  const Netns& sw() const { return namespaces_[0]; }
  const Netns& client() const { return namespaces_[1]; }
  const Netns& rail() const { return namespaces_[2]; }
  const Netns& backend(int i) const { return namespaces_[3 + size_t(i)]; }
  const std::string& client_mac() const { return client_mac_; }
  const std::string& rail_mac() const { return rail_mac_; }
  const std::string& backend_mac(int i) const { return backend_macs_[size_t(i)]; }
  // Backend i's decap program (a test may detach it: "the tunnel ends there").
  dataplane::DecapProgram& decap(int i) { return decaps_[size_t(i)]; }

 private:
  explicit SingleNodeTopology(const Options& options) : options_(options) {}
  Status build();

  Options options_;
  // Declared in build order: destroyed in reverse (programs, then veths, then namespaces).
  std::vector<Netns> namespaces_;  // switch, client, rail, backends
  std::vector<VethPair> veths_;
  std::string client_mac_, rail_mac_;
  std::vector<std::string> backend_macs_;
  std::optional<dataplane::BpfSkeleton<trivial_bpf_traits>> trivial_;
  std::optional<dataplane::XdpAttachment> peer_pass_;
  std::vector<dataplane::DecapProgram> decaps_;
};

// The MAC address of `ifname` inside `ns` (`ip netns exec` remounts /sys for the namespace).
Result<std::string> mac_of(const Netns& ns, const std::string& ifname);

}  // namespace rail::e2e
