// Stable ids for service slots and backends, persisted in a pinned map so a restarted raild
// gives every (service, backend identity) the id the running program's connection table holds.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/lb_config.h"
#include "core/result.h"
#include "core/unique_fd.h"

namespace rail::dataplane {

// Registry key -> id. Hashed, not ordered: a 1000-backend pool's 40-byte keys share their first
// 24 bytes, and ordered-map compares of them were a visible part of an API change.
using IdMap = std::unordered_map<std::string, uint32_t>;

// Ids that stay with their key for as long as the key exists. Never-used ids are handed out
// first, freed ones after that (FIFO): an id is reused as late as possible, so a connection
// entry naming a freed id most likely finds it unowned (the policy of rail::BackendIds).
class StableIds {
 public:
  explicit StableIds(uint32_t capacity) : capacity_(capacity) {}
  // Ids for `keys` (distinct), in order; keys not listed are freed. kOutOfRange past capacity
  // (`what` names the thing counted). Changes nothing on error.
  Result<std::vector<uint32_t>> assign(const std::vector<std::string>& keys, const char* what);
  // Takes over an assignment found in the pins (a restart): new keys avoid these ids.
  void restore(IdMap ids);
  const IdMap& ids() const { return ids_; }

 private:
  uint32_t capacity_;
  uint32_t next_unused_ = 0;
  IdMap ids_;
  std::vector<uint32_t> free_fifo_;
};

// Registry keys: fixed-size records (the pinned map's key), the backend identity as a 128-bit
// SipHash because identities (names) have no length limit.
std::string service_id_key(const Service& s);
std::string backend_id_key(const Service& s, const Backend& b);
std::string backend_id_key(const Service& s, const std::string& identity);  // b.identity()

// The pinned HASH map `registry key -> id` (`<pin_dir>/rail_ids`), created by user space: the
// balancer program never reads it, so it is not part of bpf/. It lives exactly as long as the
// other pins, i.e. as long as the connection entries whose ids it explains. Move-only.
class PinnedIds {
 public:
  static Result<PinnedIds> open(const std::string& path);  // move-only

  // Every stored pair, split into service slots and backend ids.
  Status read(IdMap& services, IdMap& backends);
  // Makes the map hold exactly `now` for one kind: new and changed pairs are written first by
  // put(); erase_stale() removes the vanished ones once nothing refers to them.
  Status put(const IdMap& now);
  Status erase_stale(const IdMap& before, const IdMap& now);
  int fd() const { return fd_.get(); }

 private:
  explicit PinnedIds(int fd) : fd_(fd) {}
  UniqueFd fd_;
  IdMap stored_;  // what the map holds (to skip unchanged writes)
};

}  // namespace rail::dataplane
