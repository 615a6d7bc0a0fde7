// EventLog: raild's structured log, one line per event: `ts=... level=info event=reload k=v`.
//
// Tiny on purpose (no spdlog sink plumbing): a line is built whole and written with one
// write() so lines from different threads never interleave. Values with spaces, quotes or `=`
// are quoted, so `grep event=health` and logfmt parsers both work.
#pragma once

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace rail::daemon {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
const char* to_string(LogLevel level);

using LogField = std::pair<std::string_view, std::string>;

class EventLog {
 public:
  // Lines go to `sink` (tests capture them); default: stderr (journald takes it from there).
  using Sink = std::function<void(const std::string& line)>;
  explicit EventLog(LogLevel min_level = LogLevel::kInfo, Sink sink = {});

  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
  void info(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kInfo, event, fields);
  }
  void warn(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kWarn, event, fields);
  }
  void error(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::kError, event, fields);
  }
  void set_level(LogLevel level) { min_level_ = level; }

  // One formatted line without the trailing newline (exposed for tests).
  static std::string format(std::string_view ts, LogLevel level, std::string_view event,
                            std::initializer_list<LogField> fields);

 private:
  LogLevel min_level_;
  Sink sink_;
  std::mutex mu_;
};

}  // namespace rail::daemon
