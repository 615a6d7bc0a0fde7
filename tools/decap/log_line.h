// LogLine: one rail-decap log line, printed as logfmt (`ts=... event=stats k=v`) or as JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rail::decap_cmd {

class LogLine {
 public:
  explicit LogLine(std::string_view event);  // starts with ts (UTC, ms) and event
  LogLine& add(std::string_view key, std::string_view value);
  LogLine& add(std::string_view key, uint64_t value);
  // logfmt: values with spaces, quotes, `=` or nothing at all are double-quoted (with \" and \\).
  std::string logfmt() const;
  // One JSON object; numbers stay numbers.
  std::string json() const;

 private:
  struct Field {
    std::string key;
    std::string value;
    bool number;
  };
  std::vector<Field> fields_;
};

}  // namespace rail::decap_cmd
