// ReferenceDataPlane: Forwarder counters (keyed by service and backend id) re-indexed by the
// applied config's service and backend positions, as DataPlane::stats() promises.
#include "daemon/controller/reference_data_plane.h"

namespace rail::daemon {

Status ReferenceDataPlane::apply(const LbConfig& config) {
  std::lock_guard lock(mu_);
  RAIL_TRY(forwarder_.apply(config));
  ++applies_;
  return ok();
}

Result<dataplane::DataPlaneStats> ReferenceDataPlane::stats() const {
  std::lock_guard lock(mu_);
  dataplane::DataPlaneStats out;
  out.counters = forwarder_.counters();
  const auto& by_service = forwarder_.service_counters();
  const auto& by_backend = forwarder_.backend_counters();
  for (const ServiceState& svc : forwarder_.state().services()) {
    auto it = by_service.find(svc.service_id);
    out.services.push_back(it == by_service.end() ? TrafficCounters{} : it->second);
    std::vector<TrafficCounters> backends;
    for (uint32_t id : svc.backend_ids) {
      auto b = by_backend.find(id);
      backends.push_back(b == by_backend.end() ? TrafficCounters{} : b->second);
    }
    out.backends.push_back(std::move(backends));
  }
  return out;
}

Verdict ReferenceDataPlane::process(std::span<const uint8_t> frame, uint64_t now_ns,
                                    std::vector<uint8_t>& out) {
  std::lock_guard lock(mu_);
  return forwarder_.process(frame, now_ns, out);
}

uint64_t ReferenceDataPlane::applies() const {
  std::lock_guard lock(mu_);
  return applies_;
}

std::optional<IpAddress> ReferenceDataPlane::backend_address(uint32_t id) const {
  std::lock_guard lock(mu_);
  const BackendSlot* slot = forwarder_.state().backend(id);
  if (!slot) return std::nullopt;
  return slot->address;
}

}  // namespace rail::daemon
