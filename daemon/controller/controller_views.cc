// Controller: views of the running state joined with data plane counters and check status.
#include "daemon/controller/controller.h"

namespace rail::daemon {

VipView Controller::view_of(size_t i, const dataplane::DataPlaneStats* stats) const {
  const State& s = state_;
  VipView v;
  v.config = s.config.vips[i];
  if (auto it = rebuilds_.find(v.config.name); it != rebuilds_.end()) v.table_rebuilds = it->second;
  if (stats && i < stats->services.size()) v.traffic = stats->services[i];
  const Pool* pool = s.config.find_pool(v.config.pool);
  if (!pool || i >= applied_.services.size()) return v;
  for (size_t b = 0; b < pool->backends.size(); ++b) {
    BackendView bv;
    bv.pool = pool->name;
    bv.config = pool->backends[b];
    const BackendKey key{pool->name, bv.config.address};
    const Backend& applied = applied_.services[i].backends[b];
    bv.effective_weight = applied.weight;
    bv.state = applied.state;
    bv.next_hop_resolved = !applied.next_hop_mac.is_zero();
    bv.drained = s.runtime.drained.count(key) != 0;
    if (auto f = s.runtime.forced.find(key); f != s.runtime.forced.end()) bv.forced = f->second;
    if (auto h = s.runtime.health.find(key); h != s.runtime.health.end()) bv.health = h->second;
    bv.checked = pool->check.type != CheckType::kNone;
    if (bv.checked && checker_) {
      if (auto st = checker_->status(key.pool + "/" + key.address.to_string())) {
        bv.check_latency_seconds = double(st->last_latency.count()) / 1000.0;
        bv.last_check = st->last_detail;
        bv.checks = st->checks;
        if (st->checks > 0) bv.health = st->state;  // the engine's verdict, transitions or not
      }
    }
    if (stats && i < stats->backends.size() && b < stats->backends[i].size())
      bv.traffic = stats->backends[i][b];
    if (bv.state == BackendState::kUp && bv.effective_weight > 0) ++v.up;
    v.backends.push_back(std::move(bv));
  }
  return v;
}

std::vector<VipView> Controller::vips() const {
  std::lock_guard lock(mu_);
  auto stats = data_plane_.stats();
  std::vector<VipView> out;
  for (size_t i = 0; i < state_.config.vips.size(); ++i)
    out.push_back(view_of(i, stats ? &*stats : nullptr));
  return out;
}

Result<VipView> Controller::vip(const std::string& name) const {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < state_.config.vips.size(); ++i) {
    if (state_.config.vips[i].name != name) continue;
    auto stats = data_plane_.stats();
    return view_of(i, stats ? &*stats : nullptr);
  }
  return make_error(ErrorCode::kNotFound, "no VIP named \"" + name + "\"");
}

double Controller::last_apply_seconds() const {
  std::lock_guard lock(mu_);
  return last_apply_seconds_;
}

NodeView Controller::node() const {
  std::lock_guard lock(mu_);
  NodeView n;
  if (auto stats = data_plane_.stats()) n.counters = stats->counters;
  n.table_rebuilds = rebuilds_total_;
  n.changes = changes_;
  n.refused_changes = refused_;
  n.persist_errors = persist_errors_;
  n.last_apply_seconds = last_apply_seconds_;
  n.data_plane = std::string(data_plane_.name());
  return n;
}

DaemonConfig Controller::config() const {
  std::lock_guard lock(mu_);
  return state_.config;
}

RuntimeState Controller::runtime() const {
  std::lock_guard lock(mu_);
  return state_.runtime;
}

}  // namespace rail::daemon
