// rail-tput's engine: N TCP streams through a target, each "SINK" (upload) or "SOURCE"
// (download) against rail-nameserver, for a fixed time; bytes and bits per second per stream.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "tools/traffic/socket_util.h"

namespace rail::traffic {

enum class TputDirection { kUpload, kDownload };

struct TputOptions {
  Endpoint target;
  TputDirection direction = TputDirection::kDownload;
  uint32_t streams = 4;                      // >= 1
  std::chrono::milliseconds duration{5000};  // measured time, after every stream connected
  std::chrono::milliseconds connect_timeout{3000};
  std::vector<IpAddress> sources;  // round-robin; empty = kernel's choice
};

struct TputReport {
  std::string target;
  std::string direction;  // "upload" or "download"
  uint32_t streams = 0;
  double duration_s = 0;  // measured time
  uint64_t bytes = 0;     // delivered: received (download) or acknowledged (upload)
  std::vector<uint64_t> stream_bytes;
  std::map<std::string, uint64_t> errors;  // streams that failed, by kind
  bool interrupted = false;

  double bits_per_s() const { return duration_s > 0 ? 8.0 * double(bytes) / duration_s : 0; }
};

// Connects every stream (each must connect within connect_timeout), then moves data for
// `duration`. Streams that fail are counted in `errors`; the run goes on with the others.
Result<TputReport> run_tput(const TputOptions& options, int stop_fd);

// {"target","direction","streams","duration_s","bytes","bits_per_s","per_stream":[...],"errors"}
nlohmann::ordered_json tput_json(const TputReport& report);
std::string tput_text(const TputReport& report);

}  // namespace rail::traffic
