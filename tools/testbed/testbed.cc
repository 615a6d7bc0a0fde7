// Testbed's public API: up() / teardown, roles and addresses, exec/spawn, backend and node
// failures, railctl and the raild API.
#include "tools/testbed/testbed.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "tools/testbed/testbed_impl.h"

#ifndef RAIL_TESTBED_TOOLS
#define RAIL_TESTBED_TOOLS ""
#endif

namespace rail::testbed {

using json = nlohmann::json;

std::string tool_path(const std::string& tool, const std::string& bin_dir) {
  if (!bin_dir.empty()) return bin_dir + "/" + tool;
  if (const char* env = std::getenv("RAIL_BIN_DIR"); env != nullptr && *env != '\0')
    return std::string(env) + "/" + tool;
  // "raild=/path/raild,railctl=/path/railctl,..." from the build (tools/testbed/CMakeLists.txt).
  std::istringstream known(RAIL_TESTBED_TOOLS);
  for (std::string entry; std::getline(known, entry, ',');) {
    const size_t eq = entry.find('=');
    if (eq != std::string::npos && entry.substr(0, eq) == tool) return entry.substr(eq + 1);
  }
  return tool;  // PATH
}

std::string tool_dirs(const std::string& bin_dir) {
  std::vector<std::string> dirs;
  for (const char* tool : {"raild", "railctl", "rail-nameserver", "rail-mconnect", "rail-ctraffic",
                           "rail-tput", "rail-testbed"}) {
    const std::string path = tool_path(tool, bin_dir);
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) continue;
    const std::string dir = path.substr(0, slash);
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  }
  std::string out;
  for (const auto& d : dirs) out += (out.empty() ? "" : ":") + d;
  return out;
}

Testbed::Testbed(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Testbed::Testbed(Testbed&&) noexcept = default;
Testbed& Testbed::operator=(Testbed&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->teardown();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Testbed::~Testbed() {
  if (impl_) impl_->teardown();
}

namespace {

Status check_executable(const std::string& path, const std::string& what) {
  if (path.find('/') == std::string::npos) {  // PATH lookup
    for (const char* dir :
         {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
      if (access((std::string(dir) + "/" + path).c_str(), X_OK) == 0) return ok();
    }
  } else if (access(path.c_str(), X_OK) == 0) {
    return ok();
  }
  return make_error(ErrorCode::kNotFound,
                    what + " not found: " + path + " (build it, or set RAIL_BIN_DIR / --bin-dir)");
}

}  // namespace

Result<Testbed> Testbed::up(const Topology& topology, const UpOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->topo = topology;
  impl->opts = options;
  impl->dir = options.state_root + "/" + topology.name;
  if (auto running = StateFile::read(options.state_root, topology.name);
      running && owner_alive(*running)) {
    return make_error(ErrorCode::kAlreadyExists,
                      "testbed " + topology.name + " is running (pid " +
                          std::to_string((*running)["owner"].value("pid", 0)) +
                          "); stop it or run `rail-testbed down " + topology.name + "`");
  }
  std::string swept;
  RAIL_TRY(sweep(options.state_root, topology.name, &swept));
  if (!swept.empty()) impl->progress("swept leftovers of an earlier run of " + topology.name);
  const bool rail = topology.balancer == Balancer::kRail;
  RAIL_TRY(check_executable(tool_path("rail-nameserver", options.bin_dir), "rail-nameserver"));
  if (rail) RAIL_TRY(check_executable(tool_path("raild", options.bin_dir), "raild"));
  if (!rail) RAIL_TRY(check_executable("haproxy", "haproxy (Debian package haproxy)"));

  auto state = StateFile::create(options.state_root, topology.name);
  if (!state) return state.error();
  impl->state.emplace(std::move(*state));
  impl->balancers.resize(size_t(topology.rail_nodes));
  impl->servers.resize(size_t(topology.backends));
  impl->active.assign(size_t(topology.rail_nodes), false);
  Testbed tb(std::move(impl));  // from here on, any failure is torn down by ~Testbed
  RAIL_TRY(tb.impl_->record_state());
  RAIL_TRY(tb.impl_->build());
  return tb;
}

const Topology& Testbed::topology() const {
  return impl_->topo;
}
const std::string& Testbed::name() const {
  return impl_->topo.name;
}
const std::string& Testbed::state_dir() const {
  return impl_->dir;
}
std::string Testbed::ns(const std::string& role) const {
  return impl_->ns(role);
}
std::string Testbed::node_role(int i) const {
  return impl_->node_role(i);
}
uint16_t Testbed::port() const {
  return impl_->topo.port;
}

std::string Testbed::sources(int client, Family family) const {
  const Topology& t = impl_->topo;
  return client_source(t, client, 0, family).to_string() + "-" +
         client_source(t, client, t.client_sources - 1, family).to_string();
}

std::string Testbed::vip_name(Family family, bool udp) {
  return std::string(udp ? "udp" : "tcp") + (family == Family::kV4 ? "4" : "6");
}

std::string Testbed::binary(const std::string& tool) const {
  return tool_path(tool, impl_->opts.bin_dir);
}

namespace {

Status known_role(const Testbed& tb, const std::string& role) {
  std::error_code ec;
  if (!std::filesystem::exists("/run/netns/" + tb.ns(role), ec))
    return make_error(ErrorCode::kNotFound,
                      "testbed " + tb.name() + " has no role \"" + role + "\"");
  return ok();
}

}  // namespace

Result<std::string> Testbed::exec(const std::string& role, const std::string& shell_command) const {
  RAIL_TRY(known_role(*this, role));
  return run({ip_binary(), "netns", "exec", ns(role), "/bin/sh", "-c", shell_command});
}

Result<Process> Testbed::spawn(const std::string& role, std::vector<std::string> argv,
                               const std::string& log_path) {
  RAIL_TRY(known_role(*this, role));
  argv.insert(argv.begin(), {ip_binary(), "netns", "exec", ns(role)});
  return impl_->spawner.spawn(argv, log_path);
}

static Status check_index(int n, int max, const char* what) {
  if (n < 1 || n > max)
    return make_error(ErrorCode::kOutOfRange, std::string(what) + " " + std::to_string(n) +
                                                  " does not exist (1.." + std::to_string(max) +
                                                  ")");
  return ok();
}

Status Testbed::stop_backend(int j) {
  std::lock_guard lock(impl_->mu);
  RAIL_TRY(check_index(j, impl_->topo.backends, "backend"));
  Process& p = impl_->servers[size_t(j - 1)];
  const pid_t pid = p.pid();
  p.terminate(std::chrono::milliseconds(1000));
  if (pid > 0) RAIL_TRY(impl_->state->forget_process(pid));
  return ok();
}

Status Testbed::start_backend(int j) {
  std::lock_guard lock(impl_->mu);
  RAIL_TRY(check_index(j, impl_->topo.backends, "backend"));
  if (impl_->servers[size_t(j - 1)].running()) return ok();
  RAIL_TRY(impl_->start_server(j));
  return impl_->wait_server(j);
}

bool Testbed::node_active(int i) const {
  std::lock_guard lock(impl_->mu);
  return i >= 1 && i <= impl_->topo.rail_nodes && impl_->active[size_t(i - 1)];
}

Status Testbed::stop_rail_node(int i) {
  std::lock_guard lock(impl_->mu);
  RAIL_TRY(check_index(i, impl_->topo.rail_nodes, "node"));
  impl_->active[size_t(i - 1)] = false;
  RAIL_TRY(impl_->set_router_routes());  // the withdrawal first, as BGP would
  Process& p = impl_->balancers[size_t(i - 1)];
  const pid_t pid = p.pid();
  p.kill_now();
  if (pid > 0) RAIL_TRY(impl_->state->forget_process(pid));
  RAIL_TRY(run({ip_binary(), "-n", ns(node_role(i)), "link", "set", kFabricIf, "down"}));
  impl_->progress(node_role(i) + ": stopped (withdrawn, killed, link down)");
  return ok();
}

Status Testbed::start_rail_node(int i) {
  std::lock_guard lock(impl_->mu);
  RAIL_TRY(check_index(i, impl_->topo.rail_nodes, "node"));
  if (impl_->active[size_t(i - 1)]) return ok();
  RAIL_TRY(impl_->configure_node(i));  // link up, addresses and neighbours back
  if (!impl_->balancers[size_t(i - 1)].running()) {
    RAIL_TRY(impl_->start_balancer(i));
    RAIL_TRY(impl_->wait_balancer_ready(i, impl_->opts.ready_timeout));
  }
  impl_->active[size_t(i - 1)] = true;
  RAIL_TRY(impl_->set_router_routes());
  impl_->progress(node_role(i) + ": started and back in the router's ECMP route");
  return ok();
}

Result<std::string> Testbed::railctl(int node, std::vector<std::string> args) {
  std::vector<int> nodes;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->topo.balancer != Balancer::kRail)
      return make_error(ErrorCode::kUnsupported, "railctl needs balancer: rail");
    if (node == 0) {
      for (int i = 1; i <= impl_->topo.rail_nodes; ++i)
        if (impl_->active[size_t(i - 1)]) nodes.push_back(i);
    } else {
      RAIL_TRY(check_index(node, impl_->topo.rail_nodes, "node"));
      nodes.push_back(node);
    }
  }
  std::string output;
  for (int i : nodes) {
    std::vector<std::string> argv = {ip_binary(), "netns", "exec", ns(node_role(i)),
                                     binary("railctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv);
    if (!r) return make_error(r.error().code, node_role(i) + ": " + r.error().message);
    output += node == 0 ? "[" + node_role(i) + "]\n" + *r : *r;
  }
  return output;
}

Result<std::string> Testbed::api_text(int node, const std::string& path) const {
  if (impl_->topo.balancer != Balancer::kRail)
    return make_error(ErrorCode::kUnsupported, "the raild API needs balancer: rail");
  RAIL_TRY(check_index(node, impl_->topo.rail_nodes, "node"));
  std::string body;
  auto status = impl_->http_get(node, path, body);
  if (!status) return status.error();
  if (*status < 200 || *status > 299)
    return make_error(
        *status == 404 ? ErrorCode::kNotFound : ErrorCode::kSystem,
        node_role(node) + " API " + path + ": HTTP " + std::to_string(*status) + ": " + body);
  return body;
}

Result<json> Testbed::api_get(int node, const std::string& path) const {
  auto text = api_text(node, path);
  if (!text) return text.error();
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded())
    return make_error(ErrorCode::kMalformed, node_role(node) + " API " + path + ": not JSON");
  return doc;
}

}  // namespace rail::testbed
