// XdpDataPlane::adopt: after a restart, take over what the pinned maps say the previous process
// applied (ids, keys, VIP filter), so the first apply() changes only what really changed.
#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <string>

#include "dataplane/libbpf_error.h"
#include "dataplane/xdp_data_plane.h"

namespace rail::dataplane {
namespace {

// Every key of a hash map, as raw bytes.
Result<std::set<std::string>> read_keys(int fd, size_t key_size) {
  std::set<std::string> keys;
  std::string key(key_size, '\0'), next(key_size, '\0');
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    keys.insert(next);
    key = next;
    prev = key.data();
  }
  if (errno != ENOENT) return errno_error("read map keys");
  return keys;
}

}  // namespace

Status XdpDataPlane::adopt(const std::string& pin_dir) {
  pin_dir_ = pin_dir;
  auto pinned = PinnedIds::open(pin_dir + "/rail_ids");
  if (!pinned) return pinned.error();
  pinned_ids_.emplace(std::move(*pinned));
  IdMap services, backends;
  RAIL_TRY(pinned_ids_->read(services, backends));
  adopted_ids_ = services.size() + backends.size();
  // The previous process's slots and ids count as "applied": the first apply() frees the ones
  // its config no longer has, and keeps the counters of the ones it still has.
  for (const auto& [key, slot] : services) applied_slots_.push_back(slot);
  for (const auto& [key, id] : backends) backend_ids_.push_back(id);
  std::sort(backend_ids_.begin(), backend_ids_.end());
  slot_reg_.restore(std::move(services));
  backend_reg_.restore(std::move(backends));

  // Keys the maps hold (whoever wrote them): the first apply() removes those it does not write.
  auto svc = read_keys(map_fd("rail_services"), sizeof(rail_service_key));
  if (!svc) return svc.error();
  auto vips = read_keys(map_fd("rail_vip_addrs"), sizeof(rail_addr_key));
  if (!vips) return vips.error();
  auto ingress = read_keys(map_fd("rail_ingress_addrs"), sizeof(rail_addr_key));
  if (!ingress) return ingress.error();
  service_keys_ = std::move(*svc);
  vip_keys_ = std::move(*vips);
  ingress_keys_ = std::move(*ingress);

  // The filter as it is, so the first apply() only adds bits before removing keys (a VIP of
  // both configs never loses its bit, not even for one packet).
  std::vector<uint64_t> words(RAIL_VIP_FILTER_WORDS, 0);
  std::vector<uint32_t> keys(RAIL_VIP_FILTER_WORDS);
  uint32_t count = RAIL_VIP_FILTER_WORDS, out_batch = 0;
  if (bpf_map_lookup_batch(map_fd("rail_vip_filter"), nullptr, &out_batch, keys.data(),
                           words.data(), &count, nullptr) != 0 &&
      errno != ENOENT) {
    for (uint32_t w = 0; w < RAIL_VIP_FILTER_WORDS; ++w)
      if (bpf_map_lookup_elem(map_fd("rail_vip_filter"), &w, &words[w]) != 0)
        return errno_error("read the VIP filter");
  } else if (count != RAIL_VIP_FILTER_WORDS) {
    return make_error(ErrorCode::kSystem, "read the VIP filter: short batch");
  }
  vip_filter_ = std::move(words);
  return ok();
}

}  // namespace rail::dataplane
