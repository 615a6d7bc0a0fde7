// The connection tables' user-space side: the IPv6 table's size, and the upgrade from the
// single two-family table of earlier builds (docs/xdp.md "Connection tables").
#include "dataplane/xdp_conntrack.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "abi/rail_abi.h"
#include "core/unique_fd.h"
#include "dataplane/libbpf_error.h"

namespace rail::dataplane {
namespace {

constexpr uint32_t kBatch = 4096;

// Writes `count` keys/values with one batch update (BPF_ANY).
template <typename Key>
Status write_batch(int fd, const std::vector<Key>& keys, const std::vector<rail_conn>& values) {
  if (keys.empty()) return ok();
  auto count = uint32_t(keys.size());
  if (bpf_map_update_batch(fd, keys.data(), values.data(), &count, nullptr) != 0)
    return errno_error("copy the old connection table's entries");
  return ok();
}

}  // namespace

uint32_t conn6_entries(uint32_t conn_capacity, uint32_t conn6_capacity) {
  return conn6_capacity != 0 ? conn6_capacity : std::max(1u, conn_capacity / 4);
}

Result<uint64_t> adopt_legacy_conntrack(const std::string& pin_dir, int v4_fd, int v6_fd) {
  const std::string path = pin_dir + "/rail_conntrack";
  UniqueFd old(bpf_obj_get(path.c_str()));
  if (old.get() < 0) {
    if (errno == ENOENT) return uint64_t{0};
    return errno_error("open pinned " + path);
  }
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(old.get(), &info, &len) != 0)
    return errno_error("inspect pinned " + path);
  uint64_t moved = 0;
  if (info.key_size == sizeof(rail_flow_key) && info.value_size == sizeof(rail_conn)) {
    std::vector<rail_flow_key> keys(kBatch);
    std::vector<rail_conn> values(kBatch);
    uint32_t in = 0, out = 0;
    bool first = true, done = false;
    while (!done) {
      uint32_t count = kBatch;
      // ENOENT: the last batch (count may still be > 0).
      if (bpf_map_lookup_batch(old.get(), first ? nullptr : &in, &out, keys.data(), values.data(),
                               &count, nullptr) != 0) {
        if (errno != ENOENT) return errno_error("read the old connection table " + path);
        done = true;
      }
      first = false;
      in = out;
      std::vector<rail_flow_key4> keys4;
      std::vector<rail_flow_key> keys6;
      std::vector<rail_conn> values4, values6;
      for (uint32_t i = 0; i < count; ++i) {
        const rail_flow_key& k = keys[i];
        if (k.family == RAIL_AF_INET) {
          rail_flow_key4 k4{};
          k4.src = k.src[0];
          k4.dst = k.dst[0];
          k4.sport = k.sport;
          k4.dport = k.dport;
          k4.proto = k.proto;
          keys4.push_back(k4);
          values4.push_back(values[i]);
        } else if (k.family == RAIL_AF_INET6) {
          keys6.push_back(k);
          values6.push_back(values[i]);
        }
      }
      RAIL_TRY(write_batch(v4_fd, keys4, values4));
      RAIL_TRY(write_batch(v6_fd, keys6, values6));
      moved += keys4.size() + keys6.size();
    }
  }
  if (unlink(path.c_str()) != 0) return errno_error("remove the old connection table " + path);
  return moved;
}

}  // namespace rail::dataplane
