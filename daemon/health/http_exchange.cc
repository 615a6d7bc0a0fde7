// The HTTP check conversation over any ByteStream: one request, the status line and headers.
#include <algorithm>
#include <array>

#include "daemon/health/byte_stream.h"
#include "daemon/health/http_response.h"

namespace rail::health {

MaybeFailure http_exchange(ByteStream& stream, const HealthCheckSpec& spec,
                           const ProbeTarget& target, const ProbeContext& ctx,
                           std::string& detail) {
  if (auto failure = stream.write_all(build_http_request(spec, target), ctx)) return failure;
  std::string head;
  std::array<char, 2048> chunk{};
  // Only the head is read: the body may be large or endless, and the status decides.
  while (find_head_end(head) == std::string::npos) {
    if (head.size() >= kMaxResponseHead) {
      return remote_failure("response head exceeds " + std::to_string(kMaxResponseHead) + " bytes");
    }
    size_t want = std::min(chunk.size(), kMaxResponseHead - head.size());
    size_t got = 0;
    if (auto failure = stream.read_some(chunk.data(), want, got, ctx)) return failure;
    if (got == 0) {
      // A server that closes right after a complete status line still gave its verdict.
      if (head.find("\r\n") != std::string::npos) break;
      return remote_failure(head.empty() ? "connection closed without a response"
                                         : "connection closed inside the status line");
    }
    head.append(chunk.data(), got);
  }
  auto status = parse_status_line(head);
  if (!status) return remote_failure(status.error().message);
  detail = "HTTP " + std::to_string(*status);
  if (*status != spec.expect_status) {
    return remote_failure(detail + " (expected " + std::to_string(spec.expect_status) + ")");
  }
  return std::nullopt;
}

}  // namespace rail::health
