// Controller: life cycle and the change protocol (translate -> apply -> commit -> persist).
// Persisting only queues the state for the StatePersister thread: see state_persister.h.
#include "daemon/controller/controller.h"

#include <chrono>
#include <set>
#include <tuple>

#include "daemon/config/yaml_loader.h"

namespace rail::daemon {
namespace {

std::string target_id(const BackendKey& key) {
  return key.pool + "/" + key.address.to_string();
}

bool same_table(const Service& a, const Service& b) {
  if (a.table_size != b.table_size || a.backends.size() != b.backends.size()) return false;
  for (size_t i = 0; i < a.backends.size(); ++i) {
    const Backend &x = a.backends[i], &y = b.backends[i];
    if (x.identity() != y.identity() || x.weight != y.weight || x.state != y.state) return false;
  }
  return true;
}

}  // namespace

health::HealthCheckSpec to_health_spec(const HealthCheck& c) {
  health::HealthCheckSpec s;
  s.type = c.type;
  s.port = c.port;
  s.path = c.path;
  s.host = c.host;
  s.expect_status = c.expect;
  s.interval = c.interval;
  s.timeout = c.timeout;
  s.rise = c.rise;
  s.fall = c.fall;
  s.tls_verify = c.tls_verify;
  return s;
}

Controller::Controller(dataplane::DataPlane& data_plane, NextHopResolver& resolver, EventLog& log,
                       ControllerOptions options)
    : data_plane_(data_plane), resolver_(resolver), log_(log), options_(std::move(options)) {
  if (options_.persist) {
    persister_ = std::make_unique<StatePersister>(
        [this](const std::string& file, const Error& error) {
          ++persist_errors_;
          log_.error("persist_failed", {{"file", file}, {"error", error.message}});
        },
        options_.persist_retry, options_.persist_interval);
  }
}

Controller::~Controller() {
  // Before anything else goes: a health callback in flight needs mu_ and the state.
  if (checker_) checker_->stop();
  persister_.reset();  // writes what is still pending, then stops its thread
}

Status Controller::flush_state() {
  return persister_ ? persister_->flush() : ok();
}

Result<std::unique_ptr<Controller>> Controller::create(DaemonConfig config, RuntimeState runtime,
                                                       dataplane::DataPlane& data_plane,
                                                       NextHopResolver& resolver, EventLog& log,
                                                       ControllerOptions options) {
  std::unique_ptr<Controller> c(new Controller(data_plane, resolver, log, std::move(options)));
  if (c->options_.health_checks) {
    Controller* self = c.get();
    auto checker = health::HealthChecker::create(
        c->options_.health, [self](const health::StateChange& change) {
          std::optional<BackendKey> key;
          {
            std::lock_guard lock(self->mu_);
            auto it = self->targets_.find(change.id);
            if (it != self->targets_.end()) key = it->second.key;
          }
          if (key) self->set_health(*key, change.state, change.reason);
        });
    if (!checker) return checker.error();
    c->checker_ = std::move(*checker);
  }
  prune(runtime, config);
  State initial{std::move(config), std::move(runtime), {}};
  std::lock_guard lock(c->mu_);
  RAIL_TRY(c->commit(std::move(initial), "start", true));
  return c;
}

Result<LbConfig> Controller::translate(const State& s) const {
  RuntimeInputs inputs;
  inputs.health = &s.runtime.health;
  inputs.unknown_state = options_.unknown_state;
  inputs.interface_mac = options_.interface_mac;
  inputs.next_hop_mac = [&s](const IpAddress& a) -> std::optional<MacAddress> {
    auto it = s.macs.find(a);
    if (it == s.macs.end()) return std::nullopt;
    return it->second;
  };
  auto lb = to_lb_config(s.config, inputs);
  if (!lb) return lb;
  // Overrides on top of health: to_lb_config keeps services in VIP order and backends in pool
  // order, which is what lets us find each backend's key here.
  for (size_t i = 0; i < s.config.vips.size(); ++i) {
    const Pool* pool = s.config.find_pool(s.config.vips[i].pool);
    for (size_t b = 0; pool && b < pool->backends.size(); ++b) {
      Backend& be = lb->services[i].backends[b];
      const BackendKey key{pool->name, pool->backends[b].address};
      if (auto f = s.runtime.forced.find(key); f != s.runtime.forced.end()) be.state = f->second;
      if (s.runtime.drained.count(key)) be.weight = 0;
    }
  }
  return lb;
}

void Controller::resolve_missing(State& s) {
  for (const Pool& p : s.config.pools)
    for (const PoolBackend& b : p.backends)
      if (!s.macs.count(b.address))
        if (auto mac = resolver_.resolve(b.address)) s.macs[b.address] = *mac;
}

Status Controller::commit(State next, std::string_view event, bool config_changed) {
  const auto start = std::chrono::steady_clock::now();
  resolve_missing(next);
  auto lb = translate(next);
  if (!lb) {
    ++refused_;
    return lb.error();
  }
  if (Status st = data_plane_.apply(*lb); !st) {
    ++refused_;
    return st.error();
  }
  // Count Maglev tables that changed (new service, or a different backend set/weight/state).
  std::map<std::tuple<IpAddress, Protocol, uint16_t>, const Service*> before;
  for (const Service& s : applied_.services) before[{s.vip, s.protocol, s.port}] = &s;
  for (size_t i = 0; i < lb->services.size(); ++i) {
    const Service& s = lb->services[i];
    auto it = before.find({s.vip, s.protocol, s.port});
    if (it == before.end() || !same_table(*it->second, s)) {
      ++rebuilds_[next.config.vips[i].name];
      ++rebuilds_total_;
    }
  }
  applied_ = std::move(*lb);
  last_apply_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const bool runtime_changed = !(next.runtime == state_.runtime);
  state_ = std::move(next);
  ++changes_;
  sync_health_targets();
  if (config_changed || runtime_changed) persist(config_changed);
  log_.info(event, {{"vips", std::to_string(state_.config.vips.size())},
                    {"rebuilds_total", std::to_string(rebuilds_total_)}});
  return ok();
}

// Queued, not written: the change is applied already and the caller is answered now; the
// persister thread writes the files (and retries them) behind it.
void Controller::persist(bool config_changed) {
  if (!persister_) return;
  persister_->submit(state_.config.node.state_file, config_changed ? &state_.config : nullptr,
                     state_.runtime);
}

void Controller::sync_health_targets() {
  if (!checker_) return;
  auto next_hop_of = [this](const IpAddress& a) -> std::optional<MacAddress> {
    auto it = state_.macs.find(a);
    if (it == state_.macs.end()) return std::nullopt;
    return it->second;
  };
  std::map<std::string, Target> want;
  for (const Pool& p : state_.config.pools) {
    if (p.check.type == CheckType::kNone) continue;
    for (const PoolBackend& b : p.backends) {
      BackendKey key{p.name, b.address};
      health::ProbeTarget probe{b.address, p.check.port, std::nullopt, 0};
      if (p.check.via_vip && options_.via_vip_probe)
        if (auto via_vip = options_.via_vip_probe(state_.config, p, b, next_hop_of(b.address)))
          probe = *via_vip;
      want.emplace(target_id(key), Target{key, probe, to_health_spec(p.check)});
    }
  }
  for (auto it = targets_.begin(); it != targets_.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    (void)checker_->remove(it->first);
    state_.runtime.health.erase(it->second.key);
    it = targets_.erase(it);
  }
  for (auto& [id, t] : want) {
    auto have = targets_.find(id);
    Status st = ok();
    if (have == targets_.end()) {
      auto known = state_.runtime.health.find(t.key);
      st = checker_->add(
          id, t.probe, t.spec,
          known == state_.runtime.health.end() ? options_.unknown_state : known->second);
    } else if (!(have->second.probe.address == t.probe.address &&
                 have->second.probe.port == t.probe.port &&
                 have->second.probe.source == t.probe.source &&
                 have->second.probe.fwmark == t.probe.fwmark &&
                 have->second.spec.port == t.spec.port && have->second.spec.type == t.spec.type &&
                 have->second.spec.path == t.spec.path && have->second.spec.host == t.spec.host &&
                 have->second.spec.expect_status == t.spec.expect_status &&
                 have->second.spec.interval == t.spec.interval &&
                 have->second.spec.timeout == t.spec.timeout &&
                 have->second.spec.rise == t.spec.rise && have->second.spec.fall == t.spec.fall &&
                 have->second.spec.tls_verify == t.spec.tls_verify)) {
      st = checker_->update(id, t.probe, t.spec);
    }
    if (!st) log_.error("health_target_failed", {{"target", id}, {"error", st.error().message}});
    targets_[id] = t;
  }
}

void Controller::set_health(const BackendKey& key, BackendState state, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto known = state_.runtime.health.find(key);
  if (known != state_.runtime.health.end() && known->second == state) return;
  State next = state_;
  next.runtime.health[key] = state;
  Status st = commit(std::move(next), "health", false);
  log_.log(st ? LogLevel::kInfo : LogLevel::kError, "health_change",
           {{"pool", key.pool},
            {"backend", key.address.to_string()},
            {"state", backend_state_name(state)},
            {"reason", reason},
            {"applied", st ? "true" : st.error().message}});
}

size_t Controller::report_unreachable(const IpAddress& address) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, t] : targets_) {
    if (t.key.address != address || !checker_) continue;
    if (checker_->trigger(id)) ++n;
  }
  if (n)
    log_.info("backend_suspect", {{"backend", address.to_string()}, {"checks", std::to_string(n)}});
  return n;
}

Status Controller::refresh_next_hops() {
  std::lock_guard lock(mu_);
  State next = state_;
  next.macs.clear();
  resolve_missing(next);
  if (next.macs == state_.macs) return ok();
  return commit(std::move(next), "next_hops_changed", false);
}

Status Controller::reload() {
  auto loaded = load_config_file(options_.config_path);
  if (!loaded) {
    std::lock_guard lock(mu_);
    ++refused_;
    return loaded.error();
  }
  return reload(std::move(*loaded));
}

Status Controller::reload(DaemonConfig candidate) {
  std::lock_guard lock(mu_);
  State next = state_;
  next.config = std::move(candidate);
  prune(next.runtime, next.config);
  return commit(std::move(next), "reload", true);
}

const char* backend_state_name(BackendState state) {
  switch (state) {
    case BackendState::kUp:
      return "up";
    case BackendState::kDrained:
      return "drained";
    case BackendState::kDown:
      return "down";
  }
  return "down";
}

}  // namespace rail::daemon
