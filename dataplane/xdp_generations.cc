// XdpDataPlane's two generation counters (abi/rail_abi.h): rail_service_gen, and
// rail_flow_cache_gen kept as a sequence count around apply()'s writes.
#include <bpf/bpf.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "dataplane/libbpf_error.h"
#include "dataplane/map_ops.h"
#include "dataplane/xdp_data_plane.h"

namespace rail::dataplane {
namespace {

// Adds one to the single __u32 of ARRAY map `fd`, unless `parity` is given and the value has
// that low bit already (a process that died while writing left rail_flow_cache_gen odd; the
// next apply() makes it even).
Status advance_generation(int fd, const char* what, std::optional<bool> parity = std::nullopt) {
  const uint32_t zero = 0;
  uint32_t gen = 0;
  if (bpf_map_lookup_elem(fd, &zero, &gen) != 0) return errno_error(std::string("read ") + what);
  if (parity && (gen & 1u) == uint32_t(*parity)) return ok();
  ++gen;
  return update(fd, &zero, &gen, what);
}

}  // namespace

// Tells the program that a rail_services lookup may now return something else: connection
// entries stamped with an older generation look their service up again. Called once every key
// change of an apply() is done, so a packet that reads the new value also sees the new keys.
Status XdpDataPlane::bump_service_gen() {
  return advance_generation(map_fd("rail_service_gen"), "service generation");
}

// Called before the first write of an apply() that a flow-cache slot depends on (the seed, a
// Maglev table, a rail_services entry): rail_flow_cache_gen goes odd, and while it is the
// program neither uses nor fills a slot. A slot filled before reads the even value it had,
// which never comes back, so no slot filled under the old maps is trusted after the writes,
// and none is filled from half-written ones during them.
Status XdpDataPlane::begin_cache_write() {
  if (cache_writing_) return ok();
  RAIL_TRY(advance_generation(map_fd("rail_flow_cache_gen"), "flow cache generation", true));
  cache_writing_ = true;
  return ok();
}

// Called at the end of every apply(), once its swaps are visible, and on the way out of a
// failed one: rail_flow_cache_gen even again (a no-op if nothing was written). If this fails
// the generation stays odd, the cache off, until an apply() succeeds.
Status XdpDataPlane::end_cache_write() {
  RAIL_TRY(advance_generation(map_fd("rail_flow_cache_gen"), "flow cache generation", false));
  cache_writing_ = false;
  return ok();
}

// Adds a raw rail_services key + value that apply() is about to write to `entries`; one the
// maps did not hold after the last apply() (or unknown: after a restart) may change what a
// lookup returns, so the flow cache stops trusting its slots first.
Status XdpDataPlane::note_service_entry(std::string entry, std::set<std::string>& entries) {
  if (!service_entries_ || !service_entries_->count(entry)) RAIL_TRY(begin_cache_write());
  entries.insert(std::move(entry));
  return ok();
}

}  // namespace rail::dataplane
