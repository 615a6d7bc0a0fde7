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
#include "daemon/health/icmp_listener.h"

namespace rail::daemon {

std::string render_metrics(const std::vector<VipView>& vips, const NodeView& node);
// The passive ICMP listener's families (rail_icmp_*); raild appends them when
// node.passive_icmp is on.
std::string render_icmp_metrics(const health::IcmpListenerStats& stats);

// Label value escaping of the exposition format.
std::string escape_label_value(std::string_view value);

// "no_backend", "malformed_l3", ...: the reason label of rail_drops_total.
const char* drop_reason_label(int reason);

}  // namespace rail::daemon
