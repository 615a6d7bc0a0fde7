// The testbed's processes: raild or HAProxy on balancer nodes, rail-nameserver on backends,
// their configs, and the readiness checks up() and start_*() wait on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/unique_fd.h"
#include "tools/testbed/loopback_http.h"
#include "tools/testbed/testbed_impl.h"

namespace rail::testbed {

using json = nlohmann::json;

namespace {

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + "ms";
}

}  // namespace

std::string log_tail(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (int(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "  | " + l + "\n";
  return out.empty() ? "  | (empty log " + path + ")\n" : out;
}

Status Testbed::Impl::start_server(int j) {
  const std::string role = backend_role(j);
  const std::string log = role_dir(role) + "/nameserver.log";
  auto p = spawner.spawn(
      {ip_binary(), "netns", "exec", ns(role), tool_path("rail-nameserver", opts.bin_dir), "--name",
       role, "--port", std::to_string(topo.port)},
      log);
  if (!p) return p.error();
  RAIL_TRY(state->add_process(p->pid(), role, "rail-nameserver"));
  servers[size_t(j - 1)] = std::move(*p);
  return ok();
}

// Accepting connections on the service port (from inside the backend's namespace).
Status Testbed::Impl::wait_server(int j) {
  const std::string role = backend_role(j);
  Process& p = servers[size_t(j - 1)];
  Status last = make_error(ErrorCode::kSystem, "not tried");
  const bool up = wait_until(
      [&] {
        if (!p.running()) return true;
        last = run_in(role, [&]() -> Status {
          UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
          set_socket_timeouts(s.get(), 500);
          return connect_loopback(s.get(), topo.port);
        });
        return bool(last);
      },
      std::chrono::milliseconds(5000));
  if (!p.running() || !up)
    return make_error(ErrorCode::kSystem, role + ": rail-nameserver " +
                                              (p.running() ? "not accepting" : "exited") + " (" +
                                              (last ? "" : last.error().message) + "); log:\n" +
                                              log_tail(role_dir(role) + "/nameserver.log"));
  return ok();
}

std::string Testbed::Impl::raild_config(int i) const {
  const std::string d = role_dir(node_role(i));
  std::ostringstream y;
  y << "# raild config of " << node_role(i) << ", written by rail-testbed (docs/testbed.md)\n"
    << "node:\n  interfaces: [" << kFabricIf << "]\n  xdp_mode: native\n";
  for (Family f : topo.families)
    y << "  outer_source_" << (f == Family::kV4 ? "v4" : "v6") << ": "
      << node_address(i, f).to_string() << "\n";
  if (topo.ingress == Ingress::kGre) {
    y << "  ingress_addresses: [";
    for (size_t n = 0; n < topo.families.size(); ++n)
      y << (n ? ", " : "") << node_address(i, topo.families[n]).to_string();
    y << "]\n";
  }
  y << "  mtu: " << kFabricMtu << "\n  api:\n    listen: 127.0.0.1:" << kApiPort << "\n"
    << "  bpffs_dir: " << d << "/bpffs/rail\n  state_file: " << d << "/running.yaml\n"
    << "pools:\n";
  for (Family f : topo.families) {
    y << "  - name: " << Testbed::pool(f) << "\n    backends:\n";
    for (int j = 1; j <= topo.backends; ++j)
      y << "      - { address: " << backend_address(j, f).to_string()
        << ", name: " << backend_role(j) << " }\n";
    y << "    check:\n      type: " << topo.check.type << "\n";
    if (topo.check.type != "none") {
      y << "      port: " << topo.port << "\n      interval: " << ms(topo.check.interval)
        << "\n      timeout: " << ms(topo.check.timeout) << "\n      rise: " << topo.check.rise
        << "\n      fall: " << topo.check.fall << "\n";
    }
  }
  y << "vips:\n";
  for (Family f : topo.families) {
    for (bool udp : {false, true}) {
      y << "  - name: " << Testbed::vip_name(f, udp)
        << "\n    address: " << testbed::vip(f).to_string()
        << "\n    protocol: " << (udp ? "udp" : "tcp") << "\n    port: " << topo.port
        << "\n    table_size: " << topo.table_size << "\n    pool: " << Testbed::pool(f) << "\n";
    }
  }
  return y.str();
}

std::string Testbed::Impl::haproxy_config(int i) const {
  const std::string d = role_dir(node_role(i));
  std::ostringstream c;
  c << "# HAProxy config of " << node_role(i) << ", written by rail-testbed (docs/testbed.md)\n"
    << "global\n  stats socket " << d << "/haproxy.sock mode 600 level admin\n"
    << "  maxconn 9000\n"  // 2 fds each: within the usual hard limit of 20000 fds
    << "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 60s\n"
    << "  timeout server 60s\n";
  for (Family f : topo.families) {
    const std::string name = Testbed::pool(f);
    c << "frontend " << Testbed::vip_name(f, false) << "\n  bind " << testbed::vip(f).to_string()
      << ":" << topo.port << "\n  default_backend " << name << "\n"
      << "backend " << name << "\n  balance roundrobin\n";
    if (topo.check.type != "none")
      c << "  default-server check inter " << ms(topo.check.interval) << " rise " << topo.check.rise
        << " fall " << topo.check.fall << "\n";
    for (int j = 1; j <= topo.backends; ++j)
      c << "  server " << backend_role(j) << " " << backend_address(j, f).to_string() << ":"
        << topo.port << "\n";
  }
  return c.str();
}

Status Testbed::Impl::start_balancer(int i) {
  const std::string role = node_role(i);
  const std::string d = role_dir(role);
  const bool rail = topo.balancer == Balancer::kRail;
  const std::string config = d + (rail ? "/rail.yaml" : "/haproxy.cfg");
  {
    std::ofstream out(config, std::ios::trunc);
    out << (rail ? raild_config(i) : haproxy_config(i));
    if (!out) return make_error(ErrorCode::kSystem, "cannot write " + config);
  }
  std::vector<std::string> argv = {ip_binary(), "netns", "exec", ns(role)};
  if (rail) {
    argv.insert(argv.end(), {tool_path("raild", opts.bin_dir), "--config", config});
  } else {
    argv.insert(argv.end(), {"haproxy", "-db", "-f", config});
  }
  auto p = spawner.spawn(argv, d + (rail ? "/raild.log" : "/haproxy.log"));
  if (!p) return p.error();
  RAIL_TRY(state->add_process(p->pid(), role, rail ? "raild" : "haproxy"));
  balancers[size_t(i - 1)] = std::move(*p);
  return ok();
}

Result<int> Testbed::Impl::http_get(int i, const std::string& path, std::string& body) const {
  int status = 0;
  Status st = run_in(node_role(i), [&]() -> Status {
    auto reply = loopback_http(kApiPort, "GET", path);
    if (!reply) return reply.error();
    status = reply->status;
    body = std::move(reply->body);
    return ok();
  });
  if (!st)
    return make_error(st.error().code, node_role(i) + " API " + path + ": " + st.error().message);
  return status;
}

namespace {

// HAProxy's "show stat" over its stats socket: "proxy/server STATUS" lines.
Result<std::string> haproxy_stat(const std::string& socket_path) {
  UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, socket_path.c_str(), sizeof(a.sun_path) - 1);
  set_socket_timeouts(s.get(), 1000);
  if (connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
    return make_error(ErrorCode::kSystem, socket_path + ": " + std::strerror(errno));
  const std::string command = "show stat\n";
  (void)!send(s.get(), command.data(), command.size(), MSG_NOSIGNAL);
  return read_to_eof(s.get());
}

}  // namespace

// raild: /readyz 200 and every backend of every VIP "up". HAProxy: every server UP.
Status Testbed::Impl::wait_balancer_ready(int i, std::chrono::milliseconds limit) {
  const std::string role = node_role(i);
  const bool rail = topo.balancer == Balancer::kRail;
  Process& p = balancers[size_t(i - 1)];
  const std::string log = role_dir(role) + (rail ? "/raild.log" : "/haproxy.log");
  std::string missing = "not asked yet";
  const bool ready = wait_until(
      [&] {
        if (!p.running()) return true;
        if (!rail) {
          auto stat = haproxy_stat(role_dir(role) + "/haproxy.sock");
          if (!stat) {
            missing = stat.error().message;
            return false;
          }
          missing.clear();
          std::istringstream lines(*stat);
          for (std::string line; std::getline(lines, line);) {
            std::vector<std::string> cols;
            std::istringstream fields(line);
            for (std::string f; std::getline(fields, f, ',');) cols.push_back(f);
            if (cols.size() < 18 || cols[0].empty() || cols[0][0] == '#') continue;
            if (cols[1] == "FRONTEND" || cols[1] == "BACKEND") continue;
            if (cols[17].rfind("UP", 0) != 0 && cols[17] != "no check")
              missing += cols[0] + "/" + cols[1] + " " + cols[17] + "; ";
          }
          return missing.empty();
        }
        std::string body;
        auto status = http_get(i, "/readyz", body);
        if (!status || *status != 200) {
          missing = status ? "/readyz answers " + std::to_string(*status) : status.error().message;
          return false;
        }
        auto vips_status = http_get(i, "/v1/vips", body);
        json vips = json::parse(body, nullptr, false);
        if (!vips_status || vips.is_discarded() || !vips.contains("vips")) {
          missing = "/v1/vips unreadable";
          return false;
        }
        missing.clear();
        for (const json& v : vips["vips"]) {
          int up = 0;
          for (const json& b : v.value("backends", json::array())) {
            if (b.value("state", "") == "up")
              ++up;
            else
              missing += v.value("name", "?") + ": " + b.value("name", "?") + " " +
                         b.value("state", "?") + "; ";
          }
          if (up != topo.backends && missing.empty())
            missing += v.value("name", "?") + ": " + std::to_string(up) + " backends up; ";
        }
        return missing.empty();
      },
      limit, std::chrono::milliseconds(50));
  if (!p.running())
    return make_error(ErrorCode::kSystem, role + ": " + (rail ? "raild" : "haproxy") +
                                              " exited (status " + std::to_string(p.terminate()) +
                                              "); log " + log + ":\n" + log_tail(log));
  if (!ready)
    return make_error(ErrorCode::kSystem, role + ": not ready after " + ms(limit) + ": " + missing +
                                              "\nlog " + log + ":\n" + log_tail(log));
  progress(role + ": " + (rail ? "raild" : "haproxy") + " ready, " + std::to_string(topo.backends) +
           " backends up");
  return ok();
}

Status Testbed::Impl::record_state() {
  RAIL_TRY(state->set("balancer", to_string(topo.balancer)));
  RAIL_TRY(state->set("ingress", to_string(topo.ingress)));
  RAIL_TRY(state->set("nodes", topo.rail_nodes));
  RAIL_TRY(state->set("node_prefix", topo.node_prefix()));
  RAIL_TRY(state->set("backends", topo.backends));
  RAIL_TRY(state->set("clients", topo.clients));
  RAIL_TRY(state->set("port", topo.port));
  json families = json::array();
  for (Family f : topo.families) families.push_back(to_string(f));
  RAIL_TRY(state->set("families", families));
  RAIL_TRY(state->set("railctl", tool_path("railctl", opts.bin_dir)));
  return ok();
}

void Testbed::Impl::teardown() {
  for (Process& p : balancers) p.kill_now();
  for (Process& p : servers) p.kill_now();
#ifdef RAIL_TESTBED_HAS_GRE
  router_encap.reset();
#endif
  peer_pass.clear();
  decaps.clear();
  // Whatever else runs in the namespaces (spawn()ed processes still owned by the caller keep
  // a namespace alive), then the namespaces and the state dir.
  if (state || !namespaces.empty()) (void)sweep(opts.state_root, topo.name);
  namespaces.clear();
  state.reset();
}

}  // namespace rail::testbed
