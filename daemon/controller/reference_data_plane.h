// ReferenceDataPlane: the DataPlane interface over the reference Forwarder (core/forwarder).
//
// Real code, not a mock: raild's controller tests push frames through it to see where the
// running config sends them, and a user-space (AF_XDP) data plane can drive process() from its
// RX ring. apply() and process() are serialised by one mutex, so a packet sees the config
// wholly old or wholly new, like the XDP data plane's map swaps.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "core/forwarder/forwarder.h"
#include "dataplane/data_plane.h"

namespace rail::daemon {

class ReferenceDataPlane final : public dataplane::DataPlane {
 public:
  explicit ReferenceDataPlane(ForwarderOptions options = {}) : forwarder_(options) {}

  Status apply(const LbConfig& config) override;
  Result<dataplane::DataPlaneStats> stats() const override;
  std::string_view name() const override { return "reference"; }

  // One received frame at `now_ns` (see Forwarder::process).
  Verdict process(std::span<const uint8_t> frame, uint64_t now_ns, std::vector<uint8_t>& out);
  uint64_t applies() const;
  // The address of backend `id` in the applied config (where a TX verdict sent a packet).
  std::optional<IpAddress> backend_address(uint32_t id) const;

 private:
  mutable std::mutex mu_;
  Forwarder forwarder_;
  uint64_t applies_ = 0;
};

}  // namespace rail::daemon
