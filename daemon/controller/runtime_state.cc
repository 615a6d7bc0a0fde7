// RuntimeState <-> JSON ({"drained": [...], "forced": [...], "health": [...]}), atomic file I/O.
#include "daemon/controller/runtime_state.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/config/config_store.h"

namespace rail::daemon {
namespace {

using nlohmann::json;

const char* state_name(BackendState s) {
  switch (s) {
    case BackendState::kUp:
      return "up";
    case BackendState::kDrained:
      return "drained";
    case BackendState::kDown:
      return "down";
  }
  return "down";
}

Result<BackendState> state_from(const std::string& s) {
  if (s == "up") return BackendState::kUp;
  if (s == "down") return BackendState::kDown;
  return make_error(ErrorCode::kMalformed, "unknown backend state \"" + s + "\"");
}

json key_json(const BackendKey& k) {
  return {{"pool", k.pool}, {"address", k.address.to_string()}};
}

Result<BackendKey> key_from(const json& j) {
  auto addr = IpAddress::parse(j.at("address").get<std::string>());
  if (!addr) return addr.error();
  return BackendKey{j.at("pool").get<std::string>(), *addr};
}

bool has_backend(const DaemonConfig& c, const BackendKey& k) {
  const Pool* p = c.find_pool(k.pool);
  if (!p) return false;
  for (const PoolBackend& b : p->backends)
    if (b.address == k.address) return true;
  return false;
}

}  // namespace

std::string runtime_state_path(const std::string& state_file) {
  return state_file + ".runtime.json";
}

std::string to_json(const RuntimeState& state) {
  json j = {{"drained", json::array()}, {"forced", json::array()}, {"health", json::array()}};
  for (const BackendKey& k : state.drained) j["drained"].push_back(key_json(k));
  for (const auto& [k, s] : state.forced) {
    json e = key_json(k);
    e["state"] = state_name(s);
    j["forced"].push_back(e);
  }
  for (const auto& [k, s] : state.health) {
    json e = key_json(k);
    e["state"] = state_name(s);
    j["health"].push_back(e);
  }
  return j.dump(2) + "\n";
}

Result<RuntimeState> parse_runtime_state(const std::string& text) {
  try {
    const json j = json::parse(text);
    RuntimeState out;
    for (const json& e : j.value("drained", json::array())) {
      auto k = key_from(e);
      if (!k) return k.error();
      out.drained.insert(*k);
    }
    for (const char* field : {"forced", "health"}) {
      for (const json& e : j.value(field, json::array())) {
        auto k = key_from(e);
        if (!k) return k.error();
        auto s = state_from(e.at("state").get<std::string>());
        if (!s) return s.error();
        (std::strcmp(field, "forced") == 0 ? out.forced : out.health)[*k] = *s;
      }
    }
    return out;
  } catch (const json::exception& e) {
    return make_error(ErrorCode::kMalformed, std::string("runtime state: ") + e.what());
  }
}

Status save_runtime_state(const std::string& path, const RuntimeState& state) {
  return write_file_atomically(path, to_json(state));
}

Result<RuntimeState> load_runtime_state(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    return make_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kSystem,
                      path + ": " + std::strerror(err));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = parse_runtime_state(ss.str());
  if (!parsed) return make_error(parsed.error().code, path + ": " + parsed.error().message);
  return parsed;
}

void prune(RuntimeState& state, const DaemonConfig& config) {
  std::erase_if(state.drained, [&](const BackendKey& k) { return !has_backend(config, k); });
  std::erase_if(state.forced, [&](const auto& e) { return !has_backend(config, e.first); });
  std::erase_if(state.health, [&](const auto& e) { return !has_backend(config, e.first); });
}

}  // namespace rail::daemon
