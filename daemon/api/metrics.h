// /metrics: the controller's views in the Prometheus text exposition format (version 0.0.4).
//
// Every family has HELP and TYPE lines, label values are escaped (\\, \", \n), and backends
// shared by several VIPs report their health once per (pool, backend) but traffic per VIP.
// The output passes `promtool check metrics` (tested).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/controller/controller_views.h"

namespace rail::daemon {

std::string render_metrics(const std::vector<VipView>& vips, const NodeView& node);

// Label value escaping of the exposition format.
std::string escape_label_value(std::string_view value);

// "no_backend", "malformed_l3", ...: the reason label of rail_drops_total.
const char* drop_reason_label(int reason);

}  // namespace rail::daemon
