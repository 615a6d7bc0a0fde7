// Controller: the API's changes. Each builds a candidate state and goes through commit().
#include <algorithm>

#include "daemon/controller/config_edit.h"
#include "daemon/controller/controller.h"

namespace rail::daemon {

Status Controller::edit(Result<DaemonConfig> candidate, std::string_view event) {
  if (!candidate) {
    ++refused_;
    return candidate.error();
  }
  State next = state_;
  next.config = std::move(*candidate);
  prune(next.runtime, next.config);
  return commit(std::move(next), event, true);
}

Result<BackendKey> Controller::existing(const std::string& pool, const IpAddress& address) const {
  const Pool* p = state_.config.find_pool(pool);
  if (!p) return make_error(ErrorCode::kNotFound, "no pool named \"" + pool + "\"");
  for (const PoolBackend& b : p->backends)
    if (b.address == address) return BackendKey{pool, address};
  return make_error(ErrorCode::kNotFound,
                    "pool \"" + pool + "\" has no backend " + address.to_string());
}

Status Controller::add_vip(std::string_view document) {
  std::lock_guard lock(mu_);
  return edit(with_vip(state_.config, document), "vip_added");
}

Status Controller::remove_vip(const std::string& name) {
  std::lock_guard lock(mu_);
  return edit(without_vip(state_.config, name), "vip_removed");
}

Status Controller::add_backend(const std::string& pool, std::string_view document) {
  std::lock_guard lock(mu_);
  return edit(with_backend(state_.config, pool, document), "backend_added");
}

Status Controller::remove_backend(const std::string& pool, const IpAddress& address) {
  std::lock_guard lock(mu_);
  return edit(without_backend(state_.config, pool, address), "backend_removed");
}

Status Controller::set_weight(const std::string& pool, const IpAddress& address, uint32_t weight) {
  std::lock_guard lock(mu_);
  return edit(with_weight(state_.config, pool, address, weight), "weight_set");
}

Status Controller::set_drained(const std::string& pool, const IpAddress& address, bool drained) {
  std::lock_guard lock(mu_);
  auto key = existing(pool, address);
  if (!key) return key.error();
  State next = state_;
  if (drained)
    next.runtime.drained.insert(*key);
  else
    next.runtime.drained.erase(*key);
  return commit(std::move(next), drained ? "backend_drained" : "backend_undrained", false);
}

Status Controller::force(const std::string& pool, const IpAddress& address,
                         std::optional<BackendState> state) {
  std::lock_guard lock(mu_);
  auto key = existing(pool, address);
  if (!key) return key.error();
  if (state && *state == BackendState::kDrained)
    return make_error(ErrorCode::kInvalidArgument, "force takes up, down or none (use drain)");
  State next = state_;
  if (state)
    next.runtime.forced[*key] = *state;
  else
    next.runtime.forced.erase(*key);
  return commit(std::move(next), state ? "backend_forced" : "backend_unforced", false);
}

}  // namespace rail::daemon
