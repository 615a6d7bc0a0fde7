// HTTP/1.1 health-check request text and response status-line parsing (pure, no I/O).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"
#include "daemon/health/health_spec.h"

namespace rail::health {

// A response head larger than this is a failure: a health endpoint has no business sending
// more, and the bound keeps a misbehaving backend from making us buffer without limit.
inline constexpr size_t kMaxResponseHead = 8192;

// "GET /path HTTP/1.1" with Host (spec.host, else the target address, with the port when it is
// not the scheme's default), a User-Agent and Connection: close.
std::string build_http_request(const HealthCheckSpec& spec, const ProbeTarget& target);

// The status code of "HTTP/1.x NNN reason" (the text up to the first CRLF, or more).
Result<int> parse_status_line(std::string_view head);

// Offset just past the blank line ending the headers, or npos if not yet received.
size_t find_head_end(std::string_view received);

}  // namespace rail::health
