// EventLog: logfmt formatting, RFC 3339 UTC timestamps with milliseconds, one write per line.
#include "daemon/controller/event_log.h"

#include <unistd.h>

#include <chrono>
#include <ctime>

namespace rail::daemon {
namespace {

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || c < 0x20) return true;
  return false;
}

void append_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t' || (c >= 0 && c < 0x20)) {
      out += ' ';
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // roomy: the compiler cannot bound tm_year
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
  return buf;
}

}  // namespace

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

EventLog::EventLog(LogLevel min_level, Sink sink) : min_level_(min_level), sink_(std::move(sink)) {}

std::string EventLog::format(std::string_view ts, LogLevel level, std::string_view event,
                             std::initializer_list<LogField> fields) {
  std::string line = "ts=";
  line += ts;
  line += " level=";
  line += to_string(level);
  line += " event=";
  append_value(line, event);
  for (const auto& [key, value] : fields) {
    line += ' ';
    line += key;
    line += '=';
    append_value(line, value);
  }
  return line;
}

void EventLog::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (level < min_level_) return;
  std::string line = format(now_rfc3339(), level, event, fields);
  std::lock_guard lock(mu_);
  if (sink_) {
    sink_(line);
    return;
  }
  line += '\n';
  // One write(): concurrent lines never interleave; a failed log write has nowhere to go.
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace rail::daemon
