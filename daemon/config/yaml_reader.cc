// MapReader: strict reading of one YAML mapping, with positions and suggestions for typos.
#include "daemon/config/yaml_reader.h"

#include "daemon/config/values.h"

namespace rail::daemon {

Position position_of(const YAML::Node& node) {
  // An empty value's mark is where the parser stopped (often the next line): callers fall back
  // to the key's position instead.
  if (node.IsNull()) return {};
  YAML::Mark m = node.Mark();
  if (m.is_null() || m.line < 0) return {};
  return Position{m.line + 1, m.column + 1};
}

const char* kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "a value";
    default:
      return "nothing";
  }
}

std::optional<std::string> scalar_text(const YAML::Node& node, const std::string& path,
                                       Diagnostics& diag, const char* what) {
  if (node.IsScalar()) return node.Scalar();
  diag.add(position_of(node).line ? position_of(node) : diag.position_of(path), path,
           std::string("expected ") + what + ", found " + kind_of(node));
  return std::nullopt;
}

MapReader::MapReader(const YAML::Node& node, std::string path, Diagnostics& diag,
                     std::vector<std::string> known_keys)
    : path_(std::move(path)), diag_(diag), pos_(position_of(node)) {
  if (!pos_.line) pos_ = diag_.position_of(path_);
  if (!node.IsMap()) {
    diag_.add(pos_, path_.empty() ? std::string() : path_,
              std::string("expected a mapping, found ") + kind_of(node));
    return;
  }
  is_map_ = true;
  diag_.locate(path_, pos_);
  for (auto kv : node) {  // by value: the iterator hands out a proxy, not a stored pair
    const YAML::Node k = kv.first;
    const YAML::Node v = kv.second;
    if (!k.IsScalar()) {
      diag_.add(position_of(k), path_, "keys must be plain names");
      continue;
    }
    const std::string key = k.Scalar();
    bool known = false;
    for (const std::string& name : known_keys) known |= name == key;
    if (!known) {
      diag_.add(position_of(k), field(key), "unknown key" + did_you_mean(key, known_keys));
      continue;
    }
    if (find(key)) {
      diag_.add(position_of(k), field(key),
                "appears twice in this mapping (first on line " +
                    std::to_string(diag_.position_of(field(key)).line) + ")");
      continue;
    }
    Position vp = position_of(v);
    diag_.locate(field(key), vp.line ? vp : position_of(k));
    entries_.emplace_back(key, v);
  }
}

std::string MapReader::field(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const YAML::Node* MapReader::find(std::string_view key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return &v;
  return nullptr;
}

const YAML::Node* MapReader::require(std::string_view key) {
  const YAML::Node* n = find(key);
  if (!n && is_map_) diag_.add(pos_, field(key), "missing (required)");
  return n;
}

void MapReader::report(const YAML::Node& at, std::string_view key, std::string message) {
  Position p = position_of(at);
  diag_.add(p.line ? p : diag_.position_of(field(key)), field(key), std::move(message));
}

std::string MapReader::join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

std::optional<std::string> MapReader::text(std::string_view key, const char* what) {
  const YAML::Node* n = find(key);
  if (!n) return std::nullopt;
  return scalar_text(*n, field(key), diag_, what);
}

bool MapReader::read_string(std::string_view key, std::string& out) {
  if (!has(key)) return true;
  auto t = text(key, "text");
  if (!t) return false;
  out = *t;
  return true;
}

bool MapReader::read_uint(std::string_view key, uint64_t min, uint64_t max, uint32_t& out) {
  if (!has(key)) return true;
  auto t = text(key, "a number");
  if (!t) return false;
  auto v = parse_uint(*t, min, max);
  if (!v) {
    report(*find(key), key, v.error().message);
    return false;
  }
  out = uint32_t(*v);
  return true;
}

bool MapReader::read_uint(std::string_view key, uint64_t min, uint64_t max, uint16_t& out) {
  uint32_t v = out;
  if (!read_uint(key, min, max, v)) return false;
  out = uint16_t(v);
  return true;
}

bool MapReader::read_port(std::string_view key, uint16_t& out) {
  if (!has(key)) return true;
  auto t = text(key, "a port");
  if (!t) return false;
  auto v = parse_uint(*t, 1, 65535);
  if (!v) {
    report(*find(key), key, *t + " is not a port (1..65535)");
    return false;
  }
  out = uint16_t(*v);
  return true;
}

bool MapReader::read_bool(std::string_view key, bool& out) {
  if (!has(key)) return true;
  auto t = text(key, "true or false");
  if (!t) return false;
  auto v = parse_bool(*t);
  if (!v) {
    report(*find(key), key, v.error().message);
    return false;
  }
  out = *v;
  return true;
}

bool MapReader::read_duration(std::string_view key, Millis& out) {
  if (!has(key)) return true;
  auto t = text(key, "a duration");
  if (!t) return false;
  auto v = parse_duration(*t, kConfigDurations);
  if (!v) {
    report(*find(key), key, v.error().message);
    return false;
  }
  out = *v;
  return true;
}

bool MapReader::read_address(std::string_view key, IpAddress& out) {
  if (!has(key)) return true;
  auto t = text(key, "an IP address");
  if (!t) return false;
  auto v = IpAddress::parse(*t);
  if (!v) {
    report(*find(key), key, "\"" + *t + "\" is not an IPv4 or IPv6 address");
    return false;
  }
  out = *v;
  return true;
}

bool MapReader::read_address(std::string_view key, std::optional<IpAddress>& out) {
  if (!has(key)) return true;
  IpAddress a;
  if (!read_address(key, a)) return false;
  out = a;
  return true;
}

}  // namespace rail::daemon
