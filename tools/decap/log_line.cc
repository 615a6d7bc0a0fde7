// LogLine: logfmt and JSON rendering of rail-decap's start/stats/stop lines.
#include "tools/decap/log_line.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace rail::decap_cmd {

namespace {

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // wide enough for any int fields (the compiler checks)
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string quoted(std::string_view s, bool json) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), json ? "\\u%04x" : "\\x%02x", ch);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

}  // namespace

LogLine::LogLine(std::string_view event) {
  add("ts", now_rfc3339());
  add("event", event);
}

LogLine& LogLine::add(std::string_view key, std::string_view value) {
  fields_.push_back({std::string(key), std::string(value), false});
  return *this;
}

LogLine& LogLine::add(std::string_view key, uint64_t value) {
  fields_.push_back({std::string(key), std::to_string(value), true});
  return *this;
}

std::string LogLine::logfmt() const {
  std::string out;
  for (const Field& f : fields_) {
    if (!out.empty()) out += ' ';
    out += f.key + '=';
    bool plain = !f.value.empty() && f.value.find_first_of(" \"=\\") == std::string::npos;
    for (char ch : f.value) plain = plain && static_cast<unsigned char>(ch) >= 0x20;
    out += plain ? f.value : quoted(f.value, false);
  }
  return out;
}

std::string LogLine::json() const {
  std::string out = "{";
  for (const Field& f : fields_) {
    if (out.size() > 1) out += ',';
    out += quoted(f.key, true) + ':' + (f.number ? f.value : quoted(f.value, true));
  }
  return out + "}";
}

}  // namespace rail::decap_cmd
