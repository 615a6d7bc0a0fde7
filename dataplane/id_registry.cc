// StableIds assignment and the pinned rail_ids map behind it.
#include "dataplane/id_registry.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "abi/rail_abi.h"
#include "core/maglev/siphash.h"
#include "dataplane/libbpf_error.h"

namespace rail::dataplane {
namespace {

enum : uint8_t { kServiceKind = 1, kBackendKind = 2 };

// The pinned map's key. Layout is part of the pin: change it only with a new map name.
struct IdKey {
  uint8_t kind;
  uint8_t family;
  uint8_t proto;
  uint8_t pad;
  uint16_t port;
  uint16_t pad2;
  uint8_t vip[16];
  uint64_t identity[2];  // SipHash-2-4 of the backend identity under two keys; 0 for services
};
static_assert(sizeof(IdKey) == 40);

constexpr SipHashKey kIdentityKeyA = {'R', 'a', 'i', 'l', ' ', 'i', 'd', 's',
                                      ' ', 'h', 'a', 's', 'h', ' ', ' ', 'A'};
constexpr SipHashKey kIdentityKeyB = {'R', 'a', 'i', 'l', ' ', 'i', 'd', 's',
                                      ' ', 'h', 'a', 's', 'h', ' ', ' ', 'B'};

IdKey key_of(const Service& s, uint8_t kind) {
  IdKey k{};
  k.kind = kind;
  k.family = s.vip.is_v4() ? RAIL_AF_INET : RAIL_AF_INET6;
  k.proto = uint8_t(s.protocol);
  k.port = s.port;
  std::memcpy(k.vip, s.vip.data(), s.vip.size());
  return k;
}

std::string raw(const IdKey& k) {
  return std::string(reinterpret_cast<const char*>(&k), sizeof(k));
}

}  // namespace

std::string service_id_key(const Service& s) {
  return raw(key_of(s, kServiceKind));
}

std::string backend_id_key(const Service& s, const Backend& b) {
  return backend_id_key(s, b.identity());
}

std::string backend_id_key(const Service& s, const std::string& identity) {
  IdKey k = key_of(s, kBackendKind);
  k.identity[0] = siphash24(kIdentityKeyA, identity);
  k.identity[1] = siphash24(kIdentityKeyB, identity);
  return raw(k);
}

Result<std::vector<uint32_t>> StableIds::assign(const std::vector<std::string>& keys,
                                                const char* what) {
  IdMap next;
  next.reserve(keys.size());
  for (const std::string& k : keys)
    if (auto it = ids_.find(k); it != ids_.end()) next.emplace(k, it->second);
  // Ids freed now join the FIFO in id order (the map's order is the hash's).
  std::vector<uint32_t> newly_freed;
  for (const auto& [k, id] : ids_)
    if (!next.count(k)) newly_freed.push_back(id);
  std::sort(newly_freed.begin(), newly_freed.end());
  std::vector<uint32_t> freed = free_fifo_;
  freed.insert(freed.end(), newly_freed.begin(), newly_freed.end());
  uint32_t next_unused = next_unused_;
  size_t reuse = 0;
  std::vector<uint32_t> out;
  out.reserve(keys.size());
  for (const std::string& k : keys) {
    auto it = next.find(k);
    if (it == next.end()) {
      uint32_t id;
      if (next_unused < capacity_) {
        id = next_unused++;
      } else if (reuse < freed.size()) {
        id = freed[reuse++];
      } else {
        return make_error(ErrorCode::kOutOfRange,
                          "more than " + std::to_string(capacity_) + " " + what);
      }
      it = next.emplace(k, id).first;
    }
    out.push_back(it->second);
  }
  freed.erase(freed.begin(), freed.begin() + long(reuse));
  ids_ = std::move(next);
  free_fifo_ = std::move(freed);
  next_unused_ = next_unused;
  return out;
}

void StableIds::restore(IdMap ids) {
  std::set<uint32_t> used;
  for (const auto& [k, id] : ids)
    if (id < capacity_) used.insert(id);
  ids_.clear();
  for (auto& [k, id] : ids)
    if (id < capacity_) ids_.emplace(k, id);
  next_unused_ = used.empty() ? 0 : *used.rbegin() + 1;
  free_fifo_.clear();
  for (uint32_t id = 0; id < next_unused_; ++id)
    if (!used.count(id)) free_fifo_.push_back(id);
}

Result<PinnedIds> PinnedIds::open(const std::string& path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd >= 0) {
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.key_size == sizeof(IdKey) &&
        info.value_size == sizeof(uint32_t))
      return PinnedIds(fd);
    // Not ours (an older layout): ids are lost, as on a first start; replace it.
    close(fd);
    if (unlink(path.c_str()) != 0) return errno_error("remove incompatible " + path);
  } else if (errno != ENOENT) {
    return errno_error("open " + path);
  }
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
  fd = bpf_map_create(BPF_MAP_TYPE_HASH, "rail_ids", sizeof(IdKey), sizeof(uint32_t),
                      RAIL_MAX_SERVICES + RAIL_MAX_BACKENDS, &opts);
  if (fd < 0) return libbpf_error("create the id registry map", fd);
  PinnedIds ids(fd);
  if (bpf_obj_pin(fd, path.c_str()) != 0) return errno_error("pin " + path);
  return ids;
}

Status PinnedIds::read(IdMap& services, IdMap& backends) {
  IdKey key{}, next{};
  const IdKey* prev = nullptr;
  while (bpf_map_get_next_key(fd_.get(), prev, &next) == 0) {
    uint32_t id;
    if (bpf_map_lookup_elem(fd_.get(), &next, &id) == 0)
      (next.kind == kServiceKind ? services : backends).emplace(raw(next), id);
    key = next;
    prev = &key;
  }
  if (errno != ENOENT) return errno_error("read the id registry");
  stored_.insert(services.begin(), services.end());
  stored_.insert(backends.begin(), backends.end());
  return ok();
}

Status PinnedIds::put(const IdMap& now) {
  for (const auto& [k, id] : now) {
    if (auto it = stored_.find(k); it != stored_.end() && it->second == id) continue;
    if (bpf_map_update_elem(fd_.get(), k.data(), &id, BPF_ANY) != 0)
      return errno_error("store id in the registry");
    stored_[k] = id;
  }
  return ok();
}

Status PinnedIds::erase_stale(const IdMap& before, const IdMap& now) {
  for (const auto& [k, id] : before) {
    if (now.count(k)) continue;
    if (bpf_map_delete_elem(fd_.get(), k.data()) != 0 && errno != ENOENT)
      return errno_error("remove id from the registry");
    stored_.erase(k);
  }
  return ok();
}

}  // namespace rail::dataplane
