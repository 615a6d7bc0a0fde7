// ForwarderState construction and lookups; BackendIds registry.
#include "core/forwarder/forwarder_state.h"

#include <algorithm>

namespace rail {

Result<std::vector<std::vector<uint32_t>>> BackendIds::assign(const LbConfig& config) {
  std::map<Key, uint32_t> next;
  std::vector<std::vector<uint32_t>> out;
  // Keep the ids of pairs that still exist.
  for (const Service& s : config.services) {
    for (const Backend& b : s.backends) {
      Key key{s.vip, uint8_t(s.protocol), s.port, b.identity()};
      auto it = ids_.find(key);
      if (it != ids_.end()) next.emplace(key, it->second);
    }
  }
  // Free the ids of vanished pairs (FIFO), then hand ids to new pairs.
  for (const auto& [key, id] : ids_)
    if (!next.count(key)) free_fifo_.push_back(id);
  size_t reuse = 0;
  for (const Service& s : config.services) {
    std::vector<uint32_t> ids;
    for (const Backend& b : s.backends) {
      Key key{s.vip, uint8_t(s.protocol), s.port, b.identity()};
      auto it = next.find(key);
      if (it == next.end()) {
        uint32_t id;
        if (next_unused_ < capacity_) {
          id = next_unused_++;
        } else if (reuse < free_fifo_.size()) {
          id = free_fifo_[reuse++];
        } else {
          return make_error(ErrorCode::kOutOfRange,
                            "more than " + std::to_string(capacity_) + " backends configured");
        }
        it = next.emplace(key, id).first;
      }
      ids.push_back(it->second);
    }
    out.push_back(std::move(ids));
  }
  free_fifo_.erase(free_fifo_.begin(), free_fifo_.begin() + long(reuse));
  ids_ = std::move(next);
  return out;
}

Result<ForwarderState> ForwarderState::build(const LbConfig& config, BackendIds& ids) {
  RAIL_TRY(config.validate());
  ForwarderState st;
  st.node_ = config.node;
  for (const IpAddress& a : config.node.ingress_addresses) st.ingress_.insert(a);
  // Build every table before assigning ids, so a failure leaves the registry untouched.
  std::vector<MaglevTable> tables;
  for (const Service& s : config.services) {
    std::vector<MaglevBackend> mb;
    mb.reserve(s.backends.size());
    for (const Backend& b : s.backends) mb.push_back(MaglevBackend::from(b));
    auto table = MaglevTable::build(mb, s.table_size);
    if (!table) {
      return make_error(table.error().code, "service " + s.vip.to_string() + ":" +
                                                std::to_string(s.port) + ": " +
                                                table.error().message);
    }
    tables.push_back(std::move(*table));
  }
  auto assigned = ids.assign(config);
  if (!assigned) return assigned.error();
  for (size_t i = 0; i < config.services.size(); ++i) {
    const Service& s = config.services[i];
    ServiceState ss{s, uint32_t(i), std::move(tables[i]), (*assigned)[i]};
    for (size_t b = 0; b < s.backends.size(); ++b) {
      st.backends_[ss.backend_ids[b]] = BackendSlot{
          s.backends[b].address, s.backends[b].next_hop_mac, s.backends[b].state, uint32_t(i)};
    }
    st.vip_addrs_.insert(s.vip);
    st.by_key_[{s.vip, uint8_t(s.protocol), s.port}] = uint32_t(i);
    st.services_.push_back(std::move(ss));
  }
  return st;
}

const ServiceState* ForwarderState::find_service(const IpAddress& vip, uint8_t proto,
                                                 uint16_t port) const {
  auto it = by_key_.find({vip, proto, port});
  if (it == by_key_.end()) it = by_key_.find({vip, proto, uint16_t(0)});
  return it == by_key_.end() ? nullptr : &services_[it->second];
}

const ServiceState* ForwarderState::fragment_service(const IpAddress& vip, uint8_t proto) const {
  // by_key_ is ordered by (vip, proto, port): the first match has port 0 (any) if it exists,
  // else the lowest port.
  auto it = by_key_.lower_bound({vip, proto, uint16_t(0)});
  if (it == by_key_.end() || std::get<0>(it->first) != vip || std::get<1>(it->first) != proto)
    return nullptr;
  return &services_[it->second];
}

const BackendSlot* ForwarderState::backend(uint32_t id) const {
  auto it = backends_.find(id);
  return it == backends_.end() ? nullptr : &it->second;
}

}  // namespace rail
