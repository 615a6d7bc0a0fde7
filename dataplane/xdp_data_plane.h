// XdpDataPlane: bpf/balancer.bpf.c loaded (RAII), fed from LbConfig, attached to interfaces.
//
// apply() translates the config into the balancer maps (docs/xdp.md): backends by stable id
// (rail::BackendIds), services by stable slot, a fresh Maglev inner map per changed table
// swapped into its outer slot, and everything that vanished removed or marked DOWN.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/forwarder/forwarder_state.h"
#include "dataplane/data_plane.h"
#include "dataplane/xdp_attachment.h"

namespace rail::dataplane {

struct XdpOptions {
  uint32_t conn_capacity = 1u << 18;  // connection-table entries (LRU)
  uint32_t frag_capacity = 1u << 14;  // fragment-table entries (LRU)
  uint64_t conn_tcp_timeout_ns = 300'000'000'000ull;
  uint64_t conn_other_timeout_ns = 30'000'000'000ull;
  // If set: a bpffs directory where the maps are pinned (created by the first load, reused by
  // later ones) so a restarted raild keeps the connection table of the running program.
  std::string pin_dir;
};

class XdpDataPlane final : public DataPlane {
 public:
  // Opens the skeleton, sets rodata and map sizes, loads (verifier). Errors carry the verifier
  // log tail (kSystem / kPermission).
  static Result<std::unique_ptr<XdpDataPlane>> load(const XdpOptions& options = {});
  ~XdpDataPlane() override;
  XdpDataPlane(const XdpDataPlane&) = delete;
  XdpDataPlane& operator=(const XdpDataPlane&) = delete;

  Status apply(const LbConfig& config) override;
  Result<DataPlaneStats> stats() const override;
  std::string_view name() const override { return "xdp"; }

  // Attaches the balancer to `ifname` (native, falling back to generic by default).
  Status attach(const std::string& ifname, XdpMode mode = XdpMode::kNativeOrGeneric);
  void detach_all() { attachments_.clear(); }

  int prog_fd() const;
  // A balancer map's fd by name (e.g. "rail_backends"), -1 if none: for tests and tools.
  int map_fd(const char* name) const;
  // The kernel's count of instructions the verifier processed, and the wall time of load().
  uint32_t verified_insns() const { return verified_insns_; }
  std::chrono::microseconds load_time() const { return load_time_; }

 private:
  struct Owner;
  using ServiceKey = std::tuple<IpAddress, uint8_t, uint16_t>;  // (vip, proto, port)
  explicit XdpDataPlane(std::unique_ptr<Owner> owner);

  Result<std::vector<uint32_t>> assign_slots(const LbConfig& config);
  Status write_table(uint32_t slot, const ServiceState& service);
  Status write_filter(const std::vector<uint64_t>& words);

  std::unique_ptr<Owner> owner_;
  std::vector<XdpAttachment> attachments_;  // after owner_: detached before the program goes
  uint32_t verified_insns_ = 0;
  std::chrono::microseconds load_time_{0};

  // What the maps hold now (to remove what the next config drops).
  BackendIds ids_;
  std::map<ServiceKey, uint32_t> slots_;  // service -> stable slot (service_id in the maps)
  std::vector<uint32_t> free_slots_;
  std::map<uint32_t, std::vector<uint32_t>> tables_;  // slot -> inner map contents written
  std::set<std::string> service_keys_;                // raw rail_service_key bytes
  std::set<std::string> vip_keys_, ingress_keys_;     // raw rail_addr_key bytes
  std::set<uint32_t> backend_ids_;
  std::vector<uint64_t> vip_filter_;     // rail_vip_filter words as written (empty: unknown)
  std::vector<uint32_t> applied_slots_;  // [config service index] -> slot
  std::vector<std::vector<uint32_t>> applied_backends_;  // [service][backend] -> id
};

}  // namespace rail::dataplane
