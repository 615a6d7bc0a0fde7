// XdpDataPlane: bpf/balancer.bpf.c loaded (RAII), fed from LbConfig, attached to interfaces.
//
// apply() translates the config into the balancer maps (docs/xdp.md): backends by stable id
// (rail::BackendIds), services by stable slot, a fresh Maglev inner map per changed table
// swapped into its outer slot, and everything that vanished removed or marked DOWN. With a
// pin_dir, a load adopts what a previous process left (ids, keys, the attached link): see
// docs/xdp.md "Restart".
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/lb_config.h"
#include "core/maglev/maglev_table.h"
#include "dataplane/data_plane.h"
#include "dataplane/id_registry.h"
#include "dataplane/maglev_map_pool.h"
#include "dataplane/table_swapper.h"
#include "dataplane/xdp_attachment.h"

namespace rail::dataplane {

struct XdpOptions {
  // Connection-table entries (LRU): IPv4 flows (rail_conntrack4), and IPv6 flows
  // (rail_conntrack6; 0 = as many as conn_capacity). Each is rounded up to a multiple of the
  // possible CPUs (per-CPU LRU lists). docs/xdp.md "Connection tables".
  uint32_t conn_capacity = 1u << 18;
  uint32_t conn6_capacity = 0;
  uint32_t frag_capacity = 1u << 14;  // fragment-table entries (LRU)
  uint64_t conn_tcp_timeout_ns = 300'000'000'000ull;
  uint64_t conn_other_timeout_ns = 30'000'000'000ull;
  // How long a CPU may forward an established IPv4 flow from its flow-cache slot without
  // looking the connection table up (0 = no cache). Capped at the table's refresh interval
  // (1 s) and half the shortest timeout, rounded down to whole ~1.05 ms ticks (under one tick:
  // no cache). A slot only ever holds the backend a new Maglev pick gives under the current
  // maps, and no slot is used while apply() writes them, so the window does not let a CPU
  // forward a flow elsewhere than the table would. docs/xdp.md "Flow cache".
  uint64_t flow_cache_trust_ns = 1'000'000'000ull;
  // If set: a bpffs directory where the maps are pinned (created by the first load, reused by
  // later ones) so a restarted raild keeps the connection table of the running program. The
  // id registry (rail_ids) and the XDP links (link_<ifname>) are pinned there too: the program
  // keeps forwarding after this object (or the process) ends, until detach_all().
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

  // Attaches the balancer to `ifname` (native, falling back to generic by default). With a
  // pin_dir, a link pinned by an earlier load is adopted and its program replaced atomically.
  Status attach(const std::string& ifname, XdpMode mode = XdpMode::kNativeOrGeneric);
  // Detaches from every interface now, pinned or not (the pins of the links are removed).
  void detach_all();
  const std::vector<XdpAttachment>& attachments() const { return attachments_; }
  // Number of service slots / backend ids taken over from the pinned registry at load.
  size_t adopted_ids() const { return adopted_ids_; }
  // Flows copied from the single connection table of an older build at load (0: none pinned).
  uint64_t legacy_flows_moved() const { return legacy_flows_moved_; }

  int prog_fd() const;
  // A balancer map's fd by name (e.g. "rail_backends"), -1 if none: for tests and tools.
  int map_fd(const char* name) const;
  // The kernel's count of instructions the verifier processed, and the wall time of load().
  uint32_t verified_insns() const { return verified_insns_; }
  std::chrono::microseconds load_time() const { return load_time_; }

 private:
  struct Owner;
  explicit XdpDataPlane(std::unique_ptr<Owner> owner);

  Status adopt(const std::string& pin_dir);
  Status write_table(uint32_t slot, const Service& service, const MaglevTable& table,
                     const std::vector<uint32_t>& ids);
  Status write_filter(const std::vector<uint64_t>& words);
  int await_exchange(const std::shared_future<int>& job, const std::function<bool()>& exchanged);
  int swap_table(int outer_fd, uint32_t slot, int inner_fd, std::shared_future<int>& done);
  Status clear_table(int outer_fd, uint32_t slot, const std::string& what);
  Status bump_service_gen();
  Status begin_cache_write();
  Status end_cache_write();
  Status note_service_entry(std::string entry, std::set<std::string>& entries);

  std::unique_ptr<Owner> owner_;
  std::vector<XdpAttachment> attachments_;  // after owner_: detached before the program goes
  uint32_t verified_insns_ = 0;
  std::chrono::microseconds load_time_{0};

  // What the maps hold now (to remove what the next config drops); after a restart, what the
  // pins say the previous process left.
  std::string pin_dir_;
  std::optional<PinnedIds> pinned_ids_;
  StableIds backend_reg_{RAIL_MAX_BACKENDS};  // (service, backend identity) -> backend id
  StableIds slot_reg_{RAIL_MAX_SERVICES};     // service -> stable slot (service_id in the maps)
  size_t adopted_ids_ = 0;
  uint64_t legacy_flows_moved_ = 0;
  std::map<uint32_t, std::vector<uint32_t>> tables_;  // slot -> inner map contents written
  // What each slot's table in tables_ was built from: an unchanged service is neither rebuilt
  // nor rewritten (Maglev inputs, table size, backend ids).
  struct TableInputs {
    uint32_t table_size = 0;
    std::vector<MaglevBackend> backends;
    std::vector<uint32_t> ids;
  };
  std::map<uint32_t, TableInputs> table_inputs_;
  // The registry keys of the last assignment and its result: the same keys (any change that
  // adds or removes no backend or service) skip the registries and their pinned map.
  struct Assigned {
    std::vector<std::string> service_keys, backend_keys;
    std::vector<uint32_t> slots, backend_ids;
  };
  std::optional<Assigned> assigned_;
  // Inner Maglev maps are BPF_F_MMAPABLE (filled by memcpy) unless the pinned outer maps
  // predate that (then false: filled by batch update).
  bool mmap_tables_ = true;
  std::set<std::string> service_keys_;             // raw rail_service_key bytes
  std::set<std::string> vip_keys_, ingress_keys_;  // raw rail_addr_key bytes
  std::vector<uint32_t> backend_ids_;              // sorted
  bool filter_current_ = false;  // rail_vip_filter holds exactly vip_keys_'s bits, by us
  // Raw key + value of every rail_services entry as last written; unset until the first
  // apply() (after a restart the values are unknown): a change bumps rail_service_gen.
  std::optional<std::set<std::string>> service_entries_;
  // What rail_backends/rail_backend_owner hold per id, so apply() rewrites only what changed
  // (one change to a 1000-backend VIP must not cost 2000 map updates).
  std::map<uint32_t, std::pair<rail_backend, uint32_t>> backends_written_;
  std::optional<rail_node_config> node_written_;  // rail_node as last written (unset: unknown)
  bool cache_writing_ = false;  // rail_flow_cache_gen made odd by this apply() (xdp_generations.cc)
  std::vector<uint64_t> vip_filter_;     // rail_vip_filter words as written (empty: unknown)
  std::vector<uint32_t> applied_slots_;  // [config service index] -> slot
  std::vector<std::vector<uint32_t>> applied_backends_;  // [service][backend] -> id
  // The inner map in each slot that this process put there (filled through its mapping), and
  // maps swapped out, reused once their grace period is over. Before swapper_: the workers
  // are joined before these maps close.
  std::map<uint32_t, InnerTableMap> live_tables_;
  MaglevMapPool map_pool_;
  // Runs the outer-map updates and deletes, which wait out an RCU grace period after their
  // exchange (swap_table, clear_table); last, so its destructor joins every one still waiting
  // before the maps and the program go.
  TableSwapper swapper_;
};

}  // namespace rail::dataplane
