// Config edits on the model: a new entry (VIP, backend) read alone by the loader's rules, then
// the loader's checks (check_config) on the whole candidate.
#include "daemon/controller/config_edit.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <regex>
#include <sstream>
#include <vector>

#include "daemon/config/config_check.h"
#include "daemon/config/config_writer.h"
#include "daemon/config/values.h"
#include "daemon/config/yaml_loader.h"

namespace rail::daemon {
namespace {

constexpr std::string_view kSource = "api";

// "api:12:3: vips[2].port: 70000 is not a port" -> "vips[2].port: 70000 is not a port" (also
// "api: ..." from checks of a model that was never text).
std::string strip_positions(const std::string& text) {
  static const std::regex position("^api(:[0-9]+:[0-9]+)?: ");
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (!out.empty()) out += '\n';
    out += std::regex_replace(line, position, "");
  }
  return out;
}

Result<DaemonConfig> parse_generated(const std::string& text) {
  auto parsed = parse_config(text, kSource);
  if (!parsed) return make_error(parsed.error().code, strip_positions(parsed.error().message));
  return parsed;
}

// The loader's checks of a finished model (check_config), without the text round trip: for
// edits whose new values were read by the loader's own rules (a backend, a VIP) or
// range-checked here (a weight), or that drop some. With 1000 backends the to_yaml + parse of
// revalidate() costs tens of ms; this ~0.1 ms. The result still loads back: every value in it
// was read or checked by the loader. `d` may already hold the problems of reading the new
// entry: the checks skip what has problems and the error lists both, as the loader's would.
// `pool_paths`: as check_config's; the running config's pools are all "pools[i]" (to_yaml
// writes every pool as a named one), the default.
Result<DaemonConfig> recheck(DaemonConfig config, Diagnostics d = Diagnostics{std::string(kSource)},
                             const std::vector<std::string>& pool_paths = {}) {
  check_config(config, pool_paths, d);
  if (!d.empty()) return make_error(ErrorCode::kInvalidArgument, strip_positions(d.text()));
  return config;
}

Pool* find_pool(DaemonConfig& c, const std::string& name) {
  for (Pool& p : c.pools)
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace

Result<DaemonConfig> revalidate(const DaemonConfig& config) {
  return parse_generated(to_yaml(config));
}

Result<DaemonConfig> with_vip(const DaemonConfig& config, std::string_view vip_document) {
  // Only the new entry is read (by the loader's rules, at the path it will have: the last of
  // vips); the rest of the config was read before. Then the whole candidate is checked as the
  // loader would, with the reading's problems, so the error is the one the file would give.
  const std::string path = "vips[" + std::to_string(config.vips.size()) + "]";
  Diagnostics d{std::string(kSource)};
  VipEntry entry;
  try {
    const YAML::Node item = YAML::Load(std::string(vip_document));
    if (!item.IsMap()) return make_error(ErrorCode::kInvalidArgument, "vip must be a mapping");
    if (const YAML::Node name = item["name"]; name && name.IsScalar())
      for (const Vip& v : config.vips)
        if (v.name == name.Scalar())
          return make_error(ErrorCode::kAlreadyExists,
                            "a VIP named \"" + name.Scalar() + "\" exists");
    entry = read_vip_entry(item, path, d);
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::kInvalidArgument, std::string("vip: ") + e.what());
  }
  DaemonConfig next = config;
  std::vector<std::string> pool_paths;
  if (entry.inline_pool) {  // hoisted after the running pools, reported where it is written
    for (size_t i = 0; i < next.pools.size(); ++i)
      pool_paths.push_back("pools[" + std::to_string(i) + "]");
    pool_paths.push_back(path + ".pool");
    next.pools.push_back(std::move(*entry.inline_pool));
  }
  next.vips.push_back(std::move(entry.vip));
  return recheck(std::move(next), std::move(d), pool_paths);
}

Result<DaemonConfig> without_vip(const DaemonConfig& config, const std::string& name) {
  DaemonConfig next = config;
  auto it = std::find_if(next.vips.begin(), next.vips.end(),
                         [&](const Vip& v) { return v.name == name; });
  if (it == next.vips.end())
    return make_error(ErrorCode::kNotFound, "no VIP named \"" + name + "\"");
  const std::string pool = it->pool;
  next.vips.erase(it);
  // An inline pool is hoisted under its VIP's name (no named pool may have it): it goes too,
  // unless another VIP was since pointed at it.
  const bool shared =
      std::any_of(next.vips.begin(), next.vips.end(), [&](const Vip& v) { return v.pool == pool; });
  if (pool == name && !shared)
    std::erase_if(next.pools, [&](const Pool& p) { return p.name == pool; });
  return recheck(std::move(next));
}

Result<DaemonConfig> with_backend(const DaemonConfig& config, const std::string& pool,
                                  std::string_view backend_document) {
  DaemonConfig next = config;
  Pool* p = find_pool(next, pool);
  if (!p) return make_error(ErrorCode::kNotFound, "no pool named \"" + pool + "\"");
  // Only the new entry is read (by the loader's rules, at the path it will have); the rest of
  // the config was read before. Then the whole candidate is checked as the loader would.
  const std::string path = "pools[" + std::to_string(p - next.pools.data()) + "].backends[" +
                           std::to_string(p->backends.size()) + "]";
  std::optional<PoolBackend> backend;
  Diagnostics d{std::string(kSource)};
  try {
    YAML::Node item = YAML::Load(std::string(backend_document));
    if (!item.IsMap()) return make_error(ErrorCode::kInvalidArgument, "backend must be a mapping");
    backend = read_pool_backend(item, path, d);
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::kInvalidArgument, std::string("backend: ") + e.what());
  }
  if (!d.empty()) return make_error(ErrorCode::kInvalidArgument, strip_positions(d.text()));
  if (!backend) return make_error(ErrorCode::kInternal, path + ": not read, nothing reported");
  for (const PoolBackend& b : p->backends)
    if (b.address == backend->address)
      return make_error(ErrorCode::kAlreadyExists, "pool \"" + pool + "\" already has backend " +
                                                       backend->address.to_string());
  p->backends.push_back(std::move(*backend));
  return recheck(std::move(next));
}

Result<DaemonConfig> without_backend(const DaemonConfig& config, const std::string& pool,
                                     const IpAddress& address) {
  DaemonConfig next = config;
  Pool* p = find_pool(next, pool);
  if (!p) return make_error(ErrorCode::kNotFound, "no pool named \"" + pool + "\"");
  const size_t before = p->backends.size();
  std::erase_if(p->backends, [&](const PoolBackend& b) { return b.address == address; });
  if (p->backends.size() == before)
    return make_error(ErrorCode::kNotFound,
                      "pool \"" + pool + "\" has no backend " + address.to_string());
  return recheck(std::move(next));
}

Result<DaemonConfig> with_weight(const DaemonConfig& config, const std::string& pool,
                                 const IpAddress& address, uint32_t weight) {
  DaemonConfig next = config;
  Pool* p = find_pool(next, pool);
  if (!p) return make_error(ErrorCode::kNotFound, "no pool named \"" + pool + "\"");
  auto it = std::find_if(p->backends.begin(), p->backends.end(),
                         [&](const PoolBackend& b) { return b.address == address; });
  if (it == p->backends.end())
    return make_error(ErrorCode::kNotFound,
                      "pool \"" + pool + "\" has no backend " + address.to_string());
  // The loader's range and message for a weight, with the path it would report.
  if (auto w = parse_uint(std::to_string(weight), 0, 65535); !w)
    return make_error(ErrorCode::kInvalidArgument,
                      "pools[" + std::to_string(p - next.pools.data()) + "].backends[" +
                          std::to_string(it - p->backends.begin()) +
                          "].weight: " + w.error().message);
  it->weight = weight;
  return recheck(std::move(next));
}

}  // namespace rail::daemon
