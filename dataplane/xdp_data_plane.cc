// XdpDataPlane: skeleton life cycle, LbConfig -> balancer maps, counters.
#include "dataplane/xdp_data_plane.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <utility>

#include "balancer.skel.h"
#include "dataplane/libbpf_error.h"
#include "dataplane/map_ops.h"
#include "dataplane/skeleton.h"
#include "dataplane/xdp_conntrack.h"

namespace rail::dataplane {

RAIL_BPF_SKELETON_TRAITS(balancer_bpf);

struct XdpDataPlane::Owner {
  BpfSkeleton<balancer_bpf_traits> skel;
};

namespace {

uint8_t family_of(const IpAddress& a) {
  return a.is_v4() ? RAIL_AF_INET : RAIL_AF_INET6;
}

rail_addr_key addr_key(const IpAddress& a) {
  rail_addr_key key{};
  std::memcpy(key.addr, a.data(), a.size());
  key.family = family_of(a);
  return key;
}

template <typename T>
std::string raw(const T& value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof(value));
}

// Zeroes the per-CPU traffic counters of a slot or backend id that gets a new owner.
Status zero_traffic(int fd, uint32_t id) {
  const int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return libbpf_error("count possible CPUs", ncpus);
  std::vector<rail_traffic> zeros(size_t(ncpus), rail_traffic{});
  return update(fd, &id, zeros.data(), "reset traffic counters");
}

// A connection table pinned by a build whose entries have another layout would make libbpf
// refuse the whole load: that pin is removed, a new table is pinned, and the old table's flows
// follow Maglev again. A pin that differs only in size (conn_capacity) is left for libbpf to
// refuse: that is the operator's. (The single table of builds before the per-family ones is
// moved over after the load: adopt_legacy_conntrack.)
Status drop_other_layout_pin(const std::string& path, const bpf_map* map) {
  const int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return errno == ENOENT ? ok() : errno_error("open pinned " + path);
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  const int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
  close(fd);
  if (rc != 0) return errno_error("inspect pinned " + path);
  if (info.key_size == bpf_map__key_size(map) && info.value_size == bpf_map__value_size(map))
    return ok();
  if (unlink(path.c_str()) != 0) return errno_error("remove the old-layout pin " + path);
  return ok();
}

}  // namespace

Result<std::unique_ptr<XdpDataPlane>> XdpDataPlane::load(const XdpOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto skel = BpfSkeleton<balancer_bpf_traits>::open();
  if (!skel) return skel.error();
  balancer_bpf* s = skel->get();
  s->rodata->lb_conn_tcp_timeout_ns = options.conn_tcp_timeout_ns;
  s->rodata->lb_conn_other_timeout_ns = options.conn_other_timeout_ns;
  s->rodata->lb_conn_refresh_ns =
      conn_refresh_ns(options.conn_tcp_timeout_ns, options.conn_other_timeout_ns);
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return libbpf_error("count possible CPUs", cpus);
  const uint32_t conn4 = per_cpu_lru_entries(options.conn_capacity, uint32_t(cpus));
  const uint32_t conn6 = per_cpu_lru_entries(
      conn6_entries(options.conn_capacity, options.conn6_capacity), uint32_t(cpus));
  if (int err = bpf_map__set_max_entries(s->maps.rail_conntrack4, conn4))
    return libbpf_error("size the IPv4 connection table", err);
  if (int err = bpf_map__set_max_entries(s->maps.rail_conntrack6, conn6))
    return libbpf_error("size the IPv6 connection table", err);
  if (int err = bpf_map__set_max_entries(s->maps.rail_fragments, options.frag_capacity))
    return libbpf_error("size the fragment table", err);
  s->rodata->lb_flow_cache_ticks =
      flow_cache_ticks(options.flow_cache_trust_ns, s->rodata->lb_conn_refresh_ns,
                       options.conn_tcp_timeout_ns, options.conn_other_timeout_ns);
  const uint32_t cache_slots =
      s->rodata->lb_flow_cache_ticks ? uint32_t(cpus) << RAIL_FLOW_CACHE_BITS : 1u;
  if (int err = bpf_map__set_max_entries(s->maps.rail_flow_cache, cache_slots))
    return libbpf_error("size the flow cache", err);
  if (!options.pin_dir.empty()) {
    // libbpf pins each map at load, or reuses a compatible map already pinned there.
    bpf_map* map;
    bpf_object__for_each_map(map, s->obj) {
      // The flow cache is never pinned: a new program starts empty. Its generation is, so
      // that an old program still attached sees a restarted raild's bumps.
      if (bpf_map__is_internal(map) || map == s->maps.rail_flow_cache) continue;
      const std::string path = options.pin_dir + "/" + bpf_map__name(map);
      if (int err = bpf_map__set_pin_path(map, path.c_str()))
        return libbpf_error("pin path " + path, err);
    }
    RAIL_TRY(drop_other_layout_pin(options.pin_dir + "/rail_conntrack4", s->maps.rail_conntrack4));
    RAIL_TRY(drop_other_layout_pin(options.pin_dir + "/rail_conntrack6", s->maps.rail_conntrack6));
  }
  RAIL_TRY(skel->load());
  Result<uint64_t> moved = uint64_t{0};
  if (!options.pin_dir.empty()) {
    moved = adopt_legacy_conntrack(options.pin_dir, bpf_map__fd(s->maps.rail_conntrack4),
                                   bpf_map__fd(s->maps.rail_conntrack6));
    if (!moved) return moved.error();
  }
  std::unique_ptr<XdpDataPlane> plane(
      new XdpDataPlane(std::make_unique<Owner>(Owner{std::move(*skel)})));
  plane->legacy_flows_moved_ = *moved;
  if (!options.pin_dir.empty()) RAIL_TRY(plane->adopt(options.pin_dir));
  plane->load_time_ = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(plane->prog_fd(), &info, &len) == 0)
    plane->verified_insns_ = info.verified_insns;
  return plane;
}

XdpDataPlane::XdpDataPlane(std::unique_ptr<Owner> owner) : owner_(std::move(owner)) {}

XdpDataPlane::~XdpDataPlane() {
  attachments_.clear();
}

int XdpDataPlane::prog_fd() const {
  return bpf_program__fd(owner_->skel->progs.rail_balancer);
}

int XdpDataPlane::map_fd(const char* name) const {
  return bpf_object__find_map_fd_by_name(owner_->skel->obj, name);
}

Status XdpDataPlane::attach(const std::string& ifname, XdpMode mode) {
  const std::string pin = pin_dir_.empty() ? "" : pin_dir_ + "/link_" + ifname;
  auto a = XdpAttachment::attach_pinned(ifname, prog_fd(), mode, pin);
  if (!a) return a.error();
  attachments_.push_back(std::move(*a));
  return ok();
}

void XdpDataPlane::detach_all() {
  for (XdpAttachment& a : attachments_) a.detach();
  attachments_.clear();
}

// Writes the words of the VIP filter that differ from what the map holds (all of them the first
// time: a map reused from a pin may hold anything). A word is one 8-byte value copy, so the
// program sees each word old or new.
Status XdpDataPlane::write_filter(const std::vector<uint64_t>& words) {
  const int fd = map_fd("rail_vip_filter");
  if (vip_filter_.size() != words.size()) {  // one batch call rather than 16k updates
    std::vector<uint32_t> keys(words.size());
    for (uint32_t w = 0; w < keys.size(); ++w) keys[w] = w;
    uint32_t count = uint32_t(words.size());
    if (bpf_map_update_batch(fd, keys.data(), words.data(), &count, nullptr) == 0) {
      vip_filter_ = words;
      return ok();
    }
  }
  for (uint32_t w = 0; w < words.size(); ++w) {
    if (vip_filter_.size() == words.size() && vip_filter_[w] == words[w]) continue;
    RAIL_TRY(update(fd, &w, &words[w], "VIP filter"));
  }
  vip_filter_ = words;
  return ok();
}

Status XdpDataPlane::apply(const LbConfig& config) {
  RAIL_TRY(config.validate());
  // Each backend's identity once: the Maglev inputs and the registry keys both need it.
  std::vector<std::vector<MaglevBackend>> inputs(config.services.size());
  std::vector<std::string> service_keys_in, backend_keys_in;
  for (size_t i = 0; i < config.services.size(); ++i) {
    const Service& s = config.services[i];
    service_keys_in.push_back(service_id_key(s));
    inputs[i].reserve(s.backends.size());
    for (const Backend& b : s.backends) {
      inputs[i].push_back(MaglevBackend::from(b));
      backend_keys_in.push_back(backend_id_key(s, inputs[i].back().identity));
    }
  }
  // The plane's registries are the ones restored from the pins, so they agree with the
  // connection table of the program that ran before us. Unchanged keys: unchanged ids.
  // Pairs the pinned map drops at the end (step 3), once nothing refers to them.
  std::optional<std::pair<IdMap, IdMap>> stale_ids;
  if (!assigned_ || assigned_->backend_keys != backend_keys_in ||
      assigned_->service_keys != service_keys_in) {
    StableIds backend_reg = backend_reg_, slot_reg = slot_reg_;  // committed only if both fit
    auto flat_ids = backend_reg.assign(backend_keys_in, "backends configured");
    if (!flat_ids) return flat_ids.error();
    auto slots = slot_reg.assign(service_keys_in, "services");
    if (!slots) return slots.error();
    if (pinned_ids_) {
      // Stored before any map names them: a restart from here on gets these same ids.
      RAIL_TRY(pinned_ids_->put(backend_reg.ids()));
      RAIL_TRY(pinned_ids_->put(slot_reg.ids()));
    }
    if (pinned_ids_) stale_ids = {backend_reg_.ids(), slot_reg_.ids()};
    backend_reg_ = std::move(backend_reg);
    slot_reg_ = std::move(slot_reg);
    assigned_ = Assigned{std::move(service_keys_in), std::move(backend_keys_in), std::move(*slots),
                         std::move(*flat_ids)};
  }
  const std::vector<uint32_t>* slots = &assigned_->slots;  // [service] -> slot
  const std::vector<uint32_t>& flat_ids = assigned_->backend_ids;
  std::vector<std::vector<uint32_t>> ids_of;  // [service][backend] -> id
  for (size_t i = 0, next = 0; i < config.services.size(); ++i) {
    const size_t n = config.services[i].backends.size();
    ids_of.emplace_back(flat_ids.begin() + long(next), flat_ids.begin() + long(next + n));
    next += n;
  }
  // Maglev tables of the services whose inputs changed, all built before any map is written
  // (a build error changes nothing); the others keep the table their slot holds.
  auto same_inputs = [&](size_t i) {
    auto it = table_inputs_.find((*slots)[i]);
    if (it == table_inputs_.end() || !tables_.count((*slots)[i])) return false;
    const TableInputs& t = it->second;
    if (t.table_size != config.services[i].table_size || t.ids != ids_of[i] ||
        t.backends.size() != inputs[i].size())
      return false;
    for (size_t b = 0; b < inputs[i].size(); ++b) {
      const MaglevBackend &x = t.backends[b], &y = inputs[i][b];
      if (x.identity != y.identity || x.weight != y.weight || x.state != y.state) return false;
    }
    return true;
  };
  std::vector<std::optional<MaglevTable>> tables(config.services.size());
  for (size_t i = 0; i < config.services.size(); ++i) {
    if (same_inputs(i)) continue;
    const Service& s = config.services[i];
    auto table = MaglevTable::build(inputs[i], s.table_size);
    if (!table)
      return make_error(table.error().code, "service " + s.vip.to_string() + ":" +
                                                std::to_string(s.port) + ": " +
                                                table.error().message);
    tables[i] = std::move(*table);
  }
  const NodeSettings& n = config.node;

  rail_node_config node{};
  std::memcpy(node.mac, n.mac.data(), 6);
  node.gue_port = RAIL_HTONS(n.gue_port);
  if (n.outer_source_v4) std::memcpy(&node.outer_src_v4, n.outer_source_v4->data(), 4);
  if (n.outer_source_v6) std::memcpy(node.outer_src_v6, n.outer_source_v6->data(), 16);
  node.mtu = n.mtu;
  node.hash_seed = n.hash_seed;
  node.flags = n.icmp_echo ? RAIL_NODE_ICMP_ECHO : 0;

  // A failure from the first write on may leave the maps half changed (node settings, tables,
  // rail_services). On the way out the service generation is bumped all the same, so no
  // connection entry's stamp vouches for what they held before, and the flow cache's
  // generation is made even again (no slot filled before begin_cache_write is trusted).
  struct OnFailure {
    XdpDataPlane* plane;
    bool armed = true;
    ~OnFailure() {
      if (!armed) return;
      plane->service_entries_.reset();
      (void)plane->bump_service_gen();  // best effort: the error being returned says more
      (void)plane->end_cache_write();
    }
  } on_failure{this};
  // A new seed moves every flow's pick: the cache may not trust its slots (the other node
  // settings are read live by every packet, cached or not).
  if (!node_written_ || std::memcmp(&*node_written_, &node, sizeof node) != 0) {
    if (!node_written_ || node_written_->hash_seed != node.hash_seed) RAIL_TRY(begin_cache_write());
    node_written_.reset();  // unknown until the update succeeds
    const uint32_t zero = 0;
    RAIL_TRY(update(map_fd("rail_node"), &zero, &node, "node settings"));
    node_written_ = node;
  }

  // 1. Backends first: new ids are not referenced by any table yet.
  const int backends_fd = map_fd("rail_backends"), owner_fd = map_fd("rail_backend_owner");
  const int bstats_fd = map_fd("rail_backend_stats"), sstats_fd = map_fd("rail_service_stats");
  std::vector<uint32_t> live_ids;  // sorted at the end of step 1 (becomes backend_ids_)
  live_ids.reserve(flat_ids.size());
  std::vector<std::vector<uint32_t>> applied_backends;
  for (size_t i = 0; i < config.services.size(); ++i) {
    const Service& svc = config.services[i];
    for (size_t b = 0; b < ids_of[i].size(); ++b) {
      const Backend& cfg = svc.backends[b];
      const uint32_t id = ids_of[i][b];
      rail_backend be{};
      std::memcpy(be.addr, cfg.address.data(), cfg.address.size());
      be.family = family_of(cfg.address);
      be.state = uint8_t(cfg.state);
      std::memcpy(be.mac, cfg.next_hop_mac.data(), 6);
      if (!std::binary_search(backend_ids_.begin(), backend_ids_.end(), id))
        RAIL_TRY(zero_traffic(bstats_fd, id));
      auto written = backends_written_.find(id);
      const bool same = written != backends_written_.end() &&
                        std::memcmp(&written->second.first, &be, sizeof be) == 0 &&
                        written->second.second == (*slots)[i];
      if (!same) {  // backend records are read live by every packet, cached or not
        backends_written_.erase(id);  // unknown until both updates succeed
        RAIL_TRY(update(backends_fd, &id, &be, "backend " + inputs[i][b].identity));
        RAIL_TRY(update(owner_fd, &id, &(*slots)[i], "backend owner " + inputs[i][b].identity));
        backends_written_[id] = {be, (*slots)[i]};
      }
      live_ids.push_back(id);
    }
    applied_backends.push_back(ids_of[i]);
  }
  std::sort(live_ids.begin(), live_ids.end());

  // 2. Tables and per-slot service records, then the keys that lead to them.
  const int by_id_fd = map_fd("rail_service_by_id");
  std::set<uint32_t> live_slots(slots->begin(), slots->end());
  std::map<std::pair<IpAddress, uint8_t>, size_t> lowest;  // (vip, proto) -> service index
  std::set<std::string> service_keys, service_entries, vip_keys, ingress_keys;
  for (size_t i = 0; i < config.services.size(); ++i) {
    const Service& svc = config.services[i];
    const uint32_t slot = (*slots)[i];
    if (std::find(applied_slots_.begin(), applied_slots_.end(), slot) == applied_slots_.end())
      RAIL_TRY(zero_traffic(sstats_fd, slot));
    if (tables[i]) {
      RAIL_TRY(begin_cache_write());
      table_inputs_.erase(slot);  // unknown until the new table is in
      RAIL_TRY(write_table(slot, svc, *tables[i], ids_of[i]));
      table_inputs_[slot] = TableInputs{svc.table_size, std::move(inputs[i]), ids_of[i]};
    }
    rail_service value{};
    value.service_id = slot;
    value.hash_fields = svc.hash_fields;
    value.encap = uint8_t(svc.encap);
    rail_service_key key{};
    std::memcpy(key.addr, svc.vip.data(), svc.vip.size());
    key.port = RAIL_HTONS(svc.port);
    key.proto = uint8_t(svc.protocol);
    key.family = family_of(svc.vip);
    RAIL_TRY(note_service_entry(raw(key) + raw(value), service_entries));
    RAIL_TRY(update(by_id_fd, &slot, &value, "service record"));
    RAIL_TRY(update(map_fd("rail_services"), &key, &value, "service " + svc.vip.to_string()));
    service_keys.insert(raw(key));
    auto [it, fresh] = lowest.emplace(std::pair{svc.vip, key.proto}, i);
    if (!fresh && svc.port < config.services[it->second].port) it->second = i;
  }
  // Fragments without state go to the any-port service, else the lowest port (§4): give every
  // (VIP, proto) without a real port-0 service a port-0 entry that only fragments may use.
  for (const auto& [vip_proto, i] : lowest) {
    const Service& svc = config.services[i];
    if (svc.port == 0) continue;
    rail_service_key key{};
    std::memcpy(key.addr, vip_proto.first.data(), vip_proto.first.size());
    key.proto = vip_proto.second;
    key.family = family_of(vip_proto.first);
    rail_service value{};
    value.service_id = (*slots)[i];
    value.flags = RAIL_SVC_FRAG_FALLBACK_ONLY;
    value.hash_fields = svc.hash_fields;
    value.encap = uint8_t(svc.encap);
    RAIL_TRY(note_service_entry(raw(key) + raw(value), service_entries));
    RAIL_TRY(update(map_fd("rail_services"), &key, &value, "fragment fallback service"));
    service_keys.insert(raw(key));
  }
  const uint32_t one = 1;
  for (const Service& svc : config.services) {
    rail_addr_key key = addr_key(svc.vip);
    if (vip_keys.insert(raw(key)).second)
      RAIL_TRY(update(map_fd("rail_vip_addrs"), &key, &one, "VIP " + svc.vip.to_string()));
  }
  // The filter bits of the new VIPs are set now (the union with the old ones: nothing that
  // still has keys loses its bit); bits only the removed VIPs used are cleared in step 3.
  // Unchanged VIPs (most API changes): the filter this plane wrote for them stands, and the
  // 16k-word vectors below are not built.
  const bool same_filter = filter_current_ && vip_keys == vip_keys_;
  std::vector<uint64_t> filter;
  if (!same_filter) {
    filter_current_ = false;
    filter.assign(RAIL_VIP_FILTER_WORDS, 0);
    for (const std::string& k : vip_keys) {
      rail_addr_key key;
      std::memcpy(&key, k.data(), sizeof(key));
      const uint32_t bit = rail_vip_filter_bit(key.addr, key.family);
      filter[bit >> 6] |= uint64_t(1) << (bit & 63);
    }
    std::vector<uint64_t> with_old = filter;
    for (size_t w = 0; w < vip_filter_.size(); ++w) with_old[w] |= vip_filter_[w];
    RAIL_TRY(write_filter(with_old));
  }
  for (const IpAddress& a : n.ingress_addresses) {
    rail_addr_key key = addr_key(a);
    if (ingress_keys.insert(raw(key)).second)
      RAIL_TRY(update(map_fd("rail_ingress_addrs"), &key, &one, "ingress " + a.to_string()));
  }

  // 3. Remove what vanished: keys first, then the slots and backends they led to.
  auto remove_stale = [&](const std::set<std::string>& old, const std::set<std::string>& now,
                          const char* map, const char* what) -> Status {
    for (const std::string& k : old)
      if (!now.count(k)) RAIL_TRY(remove(map_fd(map), k.data(), what));
    return ok();
  };
  if (!std::includes(service_keys.begin(), service_keys.end(), service_keys_.begin(),
                     service_keys_.end()))
    RAIL_TRY(begin_cache_write());  // a service goes: its slots must go with it
  RAIL_TRY(remove_stale(service_keys_, service_keys, "rail_services", "remove service"));
  RAIL_TRY(remove_stale(vip_keys_, vip_keys, "rail_vip_addrs", "remove VIP"));
  if (!same_filter) {
    RAIL_TRY(write_filter(filter));
    filter_current_ = true;
  }
  RAIL_TRY(remove_stale(ingress_keys_, ingress_keys, "rail_ingress_addrs", "remove ingress"));
  for (uint32_t slot : applied_slots_) {
    if (live_slots.count(slot)) continue;
    RAIL_TRY(begin_cache_write());
    rail_service gone{};
    gone.service_id = RAIL_NO_BACKEND;
    RAIL_TRY(update(by_id_fd, &slot, &gone, "free service slot"));
    // Unknown from here: a clear that fails must not leave a record saying the slot holds a
    // table (a service coming back to it would skip writing one).
    tables_.erase(slot);
    table_inputs_.erase(slot);
    live_tables_.erase(slot);
    RAIL_TRY(clear_table(map_fd("rail_maglev_fast"), slot, "free Maglev slot"));
    RAIL_TRY(clear_table(map_fd("rail_maglev_tables"), slot, "free Maglev slot"));
  }
  for (uint32_t id : backend_ids_) {
    if (std::binary_search(live_ids.begin(), live_ids.end(), id)) continue;
    rail_backend gone{};
    gone.state = RAIL_BACKEND_DOWN;
    const uint32_t no_owner = RAIL_NO_BACKEND;
    backends_written_.erase(id);
    RAIL_TRY(update(backends_fd, &id, &gone, "free backend slot"));
    RAIL_TRY(update(owner_fd, &id, &no_owner, "free backend owner"));
  }
  if (pinned_ids_ && stale_ids) {
    RAIL_TRY(pinned_ids_->erase_stale(stale_ids->first, backend_reg_.ids()));
    RAIL_TRY(pinned_ids_->erase_stale(stale_ids->second, slot_reg_.ids()));
  }
  // 4. Last: every change is in, so connection entries may be restamped and slots refilled.
  if (service_entries_ != service_entries) {
    service_entries_.reset();  // unknown until the bump succeeds
    RAIL_TRY(bump_service_gen());
    service_entries_ = std::move(service_entries);
  }
  // What the maps hold now, recorded before the last step: a failure to make the cache
  // generation even again leaves every write done (and the cache off until the next apply()).
  service_keys_ = std::move(service_keys);
  vip_keys_ = std::move(vip_keys);
  ingress_keys_ = std::move(ingress_keys);
  backend_ids_ = std::move(live_ids);
  applied_slots_ = *slots;
  applied_backends_ = std::move(applied_backends);
  RAIL_TRY(end_cache_write());
  on_failure.armed = false;
  return ok();
}

}  // namespace rail::dataplane
