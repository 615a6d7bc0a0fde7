// The API's JSON: views of VIPs and backends, and the error body {"error", "details"}.
#pragma once

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "daemon/controller/controller_views.h"

namespace rail::daemon {

nlohmann::json to_json(const BackendView& backend);
nlohmann::json to_json(const VipView& vip);
// {"error": "<summary>", "details": ["one line per problem", ...]}.
nlohmann::json error_json(const Error& error);
// The HTTP status for an error code: 400 bad input, 404 unknown name, 409 exists, 500 else.
int http_status(ErrorCode code);

}  // namespace rail::daemon
