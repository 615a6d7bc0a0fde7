// DecapProgram: the backend-side decapsulator (bpf/decap.bpf.c) loaded, configured, attached.
//
// A backend receives the balancer's GRE / IPIP / IPv6-in-IP / GUE packets addressed to one of
// its tunnel endpoint addresses; this program strips the outer headers before the stack sees
// them, so the inner packet is delivered to the VIP bound on `lo`. See docs/decap.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/net/address.h"
#include "core/result.h"
#include "dataplane/tc_attachment.h"
#include "dataplane/xdp_attachment.h"
#include "rail_abi.h"
#include "rail_decap.h"

struct decap_bpf;

namespace rail::dataplane {

struct DecapOptions {
  // Decapsulate tunnel packets whatever their outer destination (no address list needed).
  bool any_address = false;
  // UDP destination port of GUE variant 1 (host order).
  uint16_t gue_port = RAIL_DECAP_DEFAULT_GUE_PORT;
};

struct DecapCounter {
  uint64_t packets = 0;
  uint64_t bytes = 0;  // frame bytes as received (before decapsulation)
};

// Summed over all CPUs.
struct DecapStats {
  std::array<DecapCounter, RAIL_DECAP_STAT_MAX> by_stat{};  // enum rail_decap_stat
  std::array<DecapCounter, RAIL_DROP_REASON_MAX> drops{};   // enum rail_drop_reason
  const DecapCounter& passed() const { return by_stat[RAIL_DECAP_STAT_PASS]; }
  const DecapCounter& stat(rail_decap_stat s) const { return by_stat[s]; }
  const DecapCounter& drop(rail_drop_reason r) const { return drops[r]; }
  uint64_t decapsulated_packets() const;
};

class DecapProgram {
 public:
  // Opens the skeleton, writes `options` into its rodata, loads (verifier) both programs.
  static Result<DecapProgram> load(const DecapOptions& options = {});

  DecapProgram(DecapProgram&&) noexcept;
  DecapProgram& operator=(DecapProgram&&) noexcept;
  ~DecapProgram();

  // Local tunnel endpoint addresses (at most RAIL_DECAP_MAX_ADDRESSES).
  Status add_address(const IpAddress& address);
  Status remove_address(const IpAddress& address);

  // Attaches to an interface of the calling thread's namespace; detached on destruction.
  Status attach_tc(const std::string& ifname);
  Status attach_xdp(const std::string& ifname, XdpMode mode = XdpMode::kNativeOrGeneric);
  // Detaches everything now.
  void detach_all();
  const std::vector<XdpAttachment>& xdp_attachments() const { return xdp_; }

  Result<DecapStats> stats() const;

  // Program fds, e.g. for BPF_PROG_TEST_RUN.
  int xdp_prog_fd() const;
  int tc_prog_fd() const;

 private:
  struct Owner;
  explicit DecapProgram(std::unique_ptr<Owner> owner);

  // Declared first, destroyed last: attachments go before the programs they reference.
  std::unique_ptr<Owner> owner_;
  std::vector<XdpAttachment> xdp_;
  std::vector<TcAttachment> tc_;
};

}  // namespace rail::dataplane
