// MapReader: reads one YAML mapping of rail.yaml strictly (types, unknown and duplicate keys).
//
// Internal to the loader (it exposes yaml-cpp types). Every problem goes to Diagnostics with the
// node's position and the field path; every key read is located so later model checks can point
// at it. Readers leave the output untouched when a key is absent, so defaults live in the model.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config/daemon_config.h"
#include "daemon/config/diagnostics.h"

namespace rail::daemon {

Position position_of(const YAML::Node& node);

// "a list", "a mapping", "nothing", "a value": for "expected X, found Y".
const char* kind_of(const YAML::Node& node);

// The scalar text of `node`, or a report "expected <what>, found <kind>".
std::optional<std::string> scalar_text(const YAML::Node& node, const std::string& path,
                                       Diagnostics& diag, const char* what);

class MapReader {
 public:
  // `node` must be a mapping (else one problem is reported and every read finds nothing).
  MapReader(const YAML::Node& node, std::string path, Diagnostics& diag,
            std::vector<std::string> known_keys);

  bool is_map() const { return is_map_; }
  const std::string& path() const { return path_; }
  Position position() const { return pos_; }
  std::string field(std::string_view key) const;
  Diagnostics& diag() { return diag_; }

  const YAML::Node* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Like find(), but reports "missing (required)" at the mapping's position when absent.
  const YAML::Node* require(std::string_view key);

  // Typed readers: true when the key is absent or valid; false after reporting a problem.
  bool read_string(std::string_view key, std::string& out);
  bool read_uint(std::string_view key, uint64_t min, uint64_t max, uint32_t& out);
  bool read_uint(std::string_view key, uint64_t min, uint64_t max, uint16_t& out);
  bool read_port(std::string_view key, uint16_t& out);  // 1..65535
  bool read_bool(std::string_view key, bool& out);
  bool read_duration(std::string_view key, Millis& out);
  bool read_address(std::string_view key, IpAddress& out);
  bool read_address(std::string_view key, std::optional<IpAddress>& out);

  template <typename E>
  bool read_enum(std::string_view key, const std::vector<std::pair<std::string, E>>& names,
                 E& out) {
    const YAML::Node* n = find(key);
    if (!n) return true;
    auto text = scalar_text(*n, field(key), diag_, "a name");
    if (!text) return false;
    std::vector<std::string> all;
    for (const auto& [name, value] : names) {
      if (name == *text) {
        out = value;
        return true;
      }
      all.push_back(name);
    }
    report(*n, key, "\"" + *text + "\" is not one of " + join(all) + did_you_mean(*text, all));
    return false;
  }

  void report(const YAML::Node& at, std::string_view key, std::string message);
  static std::string join(const std::vector<std::string>& names);  // "gre, ipip, gue or l2"

 private:
  std::optional<std::string> text(std::string_view key, const char* what);

  std::string path_;
  Diagnostics& diag_;
  Position pos_;
  bool is_map_ = false;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
};

}  // namespace rail::daemon
