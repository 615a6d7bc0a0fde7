// rail-demo: the README's live demo: builds a testbed (docs/testbed.md), shows how new
// connections spread over the backends, fails a backend under live traffic and brings it back,
// then tears the testbed down. scripts/demo.sh builds and runs it.
//
// Why a C++ program rather than a shell script around a background `rail-testbed up`: the one
// process that owns the testbed (rail::testbed::Testbed) removes it in its destructor, so every
// way out - the end, an error, Ctrl-C - tears it down, and the failure is timed against the
// traffic's own per-second progress in one loop. It is its own program rather than a
// `rail-testbed demo` subcommand so the operator CLI stays small; demo.sh adds
// `rail-testbed down NAME` as the safety net should this process be SIGKILLed.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tools/demo/scenario.h"

namespace {

using namespace rail;
using namespace rail::testbed;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

const char* kUsage =
    "usage: rail-demo [--out-dir DIR] [--bin-dir DIR] [--duration S] [--fail-at S]\n"
    "                 [--restore-at S] [--backend J] [--connections N] [--spread N]\n"
    "                 [--timeout S] [--name NAME] TOPOLOGY\n";

struct Options {
  std::string topology;
  std::string out_dir = "demo-output";  // the SVG chart and the JSON of the failure step
  std::string bin_dir;                  // "" = the build's tools
  std::string name;                     // overrides the topology's name ("" = keep it)
  int spread = 1000;                    // rail-mconnect connections (step 2)
  int connections = 100;                // rail-ctraffic long-lived connections (step 3)
  int duration_s = 20;                  // of the failure step's traffic
  int fail_at_s = 5;                    // stop the backend at this progress second
  int restore_at_s = 13;                // start it again at this one
  int backend = 2;                      // which backend fails
  int timeout_s = 30;                   // bound on the testbed becoming ready
};

bool g_tty = false;

void heading(const std::string& text) {
  std::printf(g_tty ? "\n\033[1m== %s\033[0m\n" : "\n== %s\n", text.c_str());
  std::fflush(stdout);
}
void show(const std::vector<std::string>& argv) {
  std::printf("$ %s\n", shown_command(argv).c_str());
  std::fflush(stdout);
}
void note(const std::string& text) {
  std::printf(g_tty ? "\033[1m>> %s\033[0m\n" : ">> %s\n", text.c_str());
  std::fflush(stdout);
}
void indented(const std::string& text) {
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(at, nl - at);
    std::printf(line.empty() ? "\n" : "   %s\n", line.c_str());
    at = nl + 1;
  }
  std::fflush(stdout);
}
std::string seconds(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f s", std::chrono::duration<double>(d).count());
  return buf;
}

// Step 1: who is who, and raild's own view of its VIPs.
Status show_topology(Testbed& tb) {
  const Topology& t = tb.topology();
  std::string families;
  for (Family f : t.families) families += std::string(families.empty() ? "" : "+") + to_string(f);
  std::printf("\ntestbed %s: %d Rail nodes, %d backends, %d client; ingress %s; %s\n\n",
              t.name.c_str(), t.rail_nodes, t.backends, t.clients, to_string(t.ingress),
              families.c_str());
  const Family f = t.families.front();
  std::printf("%-8s %-18s %-27s %s\n", "ROLE", "NAMESPACE", "ADDRESS", "RUNS");
  std::printf("%-8s %-18s %-27s %s\n", "client1", tb.ns("client1").c_str(),
              tb.sources(1, f).c_str(), "the traffic tools (rail-mconnect, rail-ctraffic)");
  std::string nodes;
  for (int i = 1; i <= t.rail_nodes; ++i) nodes += (i > 1 ? ", " : "") + tb.node_role(i);
  std::printf("%-8s %-18s %-27s %s\n", "router", tb.ns("router").c_str(),
              router_fabric(f).to_string().c_str(), ("ECMP (L4 hash) over " + nodes).c_str());
  for (int i = 1; i <= t.rail_nodes; ++i)
    std::printf("%-8s %-18s %-27s %s\n", tb.node_role(i).c_str(), tb.ns(tb.node_role(i)).c_str(),
                node_address(i, f).to_string().c_str(), "raild, XDP on eth0, GRE to backends");
  for (int j = 1; j <= t.backends; ++j) {
    const std::string role = Testbed::backend_role(j);
    std::printf("%-8s %-18s %-27s %s\n", role.c_str(), tb.ns(role).c_str(),
                backend_address(j, f).to_string().c_str(),
                ("rail-nameserver " + role + ", VIPs on lo, decap").c_str());
  }
  std::printf("\nVIP %s:%u (TCP and UDP", vip(f).to_string().c_str(), t.port);
  for (Family other : t.families)
    if (other != f) std::printf("; also %s", vip(other).to_string().c_str());
  std::printf("), Maglev table %u; health check %s every %lld ms, down after %u failures.\n",
              t.table_size, t.check.type.c_str(), (long long)t.check.interval.count(),
              t.check.fall);
  std::printf(
      "Replies go from the backends via the router straight to the client (direct "
      "server return):\nthe Rail nodes only see client -> VIP packets.\n\n");
  show(tool_argv(tb, tb.node_role(1), "railctl", {"vips"}));
  auto vips = tb.railctl(1, {"vips"});
  if (!vips) return vips.error();
  indented(*vips);
  return ok();
}

// New flows per backend name on node i's VIP (raild's data-plane counters).
Result<std::map<std::string, uint64_t>> new_flows(Testbed& tb, int node, const std::string& vip) {
  auto doc = tb.api_get(node, "/v1/vips/" + vip);
  if (!doc) return doc.error();
  std::map<std::string, uint64_t> flows;
  for (const json& b : doc->value("backends", json::array()))
    flows[b.value("name", "?")] = b.value("new_flows", uint64_t{0});
  return flows;
}

// Step 2: many short connections; the backends' share, and which node forwarded each.
Status show_spread(Testbed& tb, const Options& o) {
  const Topology& t = tb.topology();
  const Family f = t.families.front();
  const std::string vip_name = Testbed::vip_name(f, false);
  std::vector<std::map<std::string, uint64_t>> before;
  for (int i = 1; i <= t.rail_nodes; ++i) {
    auto flows = new_flows(tb, i, vip_name);
    if (!flows) return flows.error();
    before.push_back(*flows);
  }
  const std::string target = vip(f).to_string() + ":" + std::to_string(t.port);
  const auto argv = tool_argv(tb, "client1", "rail-mconnect",
                              {"--target", target, "--connections", std::to_string(o.spread),
                               "--sources", tb.sources(1, f)});
  show(argv);
  auto r = run_status(argv);
  if (!r) return r.error();
  indented(r->output);
  if (r->status != 0)
    return make_error(ErrorCode::kSystem,
                      "rail-mconnect failed (exit " + std::to_string(r->status) + ")");
  std::printf("\nnew flows each Rail node forwarded to each backend (raild's counters):\n");
  std::printf("   %-8s", "backend");
  for (int i = 1; i <= t.rail_nodes; ++i) std::printf(" %8s", tb.node_role(i).c_str());
  std::printf(" %8s\n", "total");
  std::map<std::string, std::vector<uint64_t>> table;
  for (int i = 1; i <= t.rail_nodes; ++i) {
    auto flows = new_flows(tb, i, vip_name);
    if (!flows) return flows.error();
    for (const auto& [name, n] : *flows) table[name].push_back(n - before[size_t(i - 1)][name]);
  }
  for (const auto& [name, per_node] : table) {
    uint64_t total = 0;
    std::printf("   %-8s", name.c_str());
    for (uint64_t n : per_node) {
      std::printf(" %8llu", (unsigned long long)n);
      total += n;
    }
    std::printf(" %8llu\n", (unsigned long long)total);
  }
  std::printf(
      "The router's hash picks the node, the node's Maglev table picks the backend;\n"
      "both nodes have the same table, so either node sends a flow to the same "
      "backend.\n");
  return ok();
}

// Is backend `name` in state `want` ("up"/"down") on every node's VIP?
bool backend_state_everywhere(Testbed& tb, const std::string& vip_name, const std::string& name,
                              const std::string& want) {
  for (int i = 1; i <= tb.topology().rail_nodes; ++i) {
    auto doc = tb.api_get(i, "/v1/vips/" + vip_name);
    if (!doc) return false;
    for (const json& b : doc->value("backends", json::array()))
      if (b.value("name", "") == name && b.value("state", "") != want) return false;
  }
  return true;
}

// "t=5s alive=..." -> 5; -1 for any other line.
int progress_second(const std::string& line) {
  if (line.rfind("t=", 0) != 0) return -1;
  return std::atoi(line.c_str() + 2);
}

// Step 3: long-lived connections while a backend stops and starts again. Returns the path of
// the run's JSON.
Result<std::string> show_backend_failure(Testbed& tb, const Options& o, StopSignals& stop,
                                         const std::string& out_dir) {
  const Topology& t = tb.topology();
  const Family f = t.families.front();
  const std::string vip_name = Testbed::vip_name(f, false);
  const std::string victim = Testbed::backend_role(o.backend);
  const std::string json_out = out_dir + "/backend-failure.json";
  const std::string svg_out = out_dir + "/backend-failure.svg";
  const std::string log = out_dir + "/backend-failure.log";
  std::filesystem::remove(log);
  const auto argv =
      tool_argv(tb, "client1", "rail-ctraffic",
                {"--target", vip(f).to_string() + ":" + std::to_string(t.port), "--connections",
                 std::to_string(o.connections), "--rate", "10", "--duration",
                 std::to_string(o.duration_s) + "s", "--timeout", "2s", "--sources",
                 tb.sources(1, f), "--progress", "--json-out", json_out, "--svg-out", svg_out});
  std::printf(
      "%d connections, 10 messages/s each, for %d s; %s stops at t=%ds and starts "
      "again at t=%ds.\n",
      o.connections, o.duration_s, victim.c_str(), o.fail_at_s, o.restore_at_s);
  show(argv);
  LineFollower follow(log);
  auto traffic = tb.spawn("client1", {argv.begin() + 4, argv.end()}, log);
  if (!traffic) return traffic.error();

  enum class Phase { kBefore, kDetecting, kDown, kReturning, kBack } phase = Phase::kBefore;
  Clock::time_point changed{};
  const auto deadline = Clock::now() + std::chrono::seconds(o.duration_s + 15);
  int second = 0;
  for (bool running = true; running;) {
    running = traffic->running();  // read the log once more after it exits
    for (const std::string& line : follow.new_lines()) {
      std::printf("   %s\n", line.c_str());
      second = std::max(second, progress_second(line));
    }
    std::fflush(stdout);
    if (stop.pending()) return make_error(ErrorCode::kSystem, "interrupted");
    if (Clock::now() > deadline)
      return make_error(ErrorCode::kSystem, "rail-ctraffic did not finish; log " + log);
    switch (phase) {
      case Phase::kBefore:
        if (second < o.fail_at_s) break;
        note("t=" + std::to_string(second) + "s: stopping " + victim +
             "'s server (SIGTERM to its rail-nameserver: its connections close, its health "
             "checks fail)");
        RAIL_TRY(tb.stop_backend(o.backend));
        changed = Clock::now();
        phase = Phase::kDetecting;
        break;
      case Phase::kDetecting:
        if (!backend_state_everywhere(tb, vip_name, victim, "down")) {
          if (Clock::now() - changed > std::chrono::seconds(5))
            return make_error(ErrorCode::kSystem,
                              "raild did not take " + victim + " out within 5 s");
          break;
        }
        note("every Rail node took " + victim + " out of " + vip_name + " " +
             seconds(Clock::now() - changed) + " after it stopped; raild on " + tb.node_role(1) +
             " says:");
        show(tool_argv(tb, tb.node_role(1), "railctl", {"vip", vip_name}));
        if (auto out = tb.railctl(1, {"vip", vip_name}); out)
          indented(*out);
        else
          indented("(railctl failed: " + out.error().message + ")");
        phase = Phase::kDown;
        break;
      case Phase::kDown:
        if (second < o.restore_at_s) break;
        note("t=" + std::to_string(second) + "s: starting " + victim + "'s server again");
        RAIL_TRY(tb.start_backend(o.backend));
        changed = Clock::now();
        phase = Phase::kReturning;
        break;
      case Phase::kReturning:
        if (!backend_state_everywhere(tb, vip_name, victim, "up")) break;
        note(victim + " is back in " + vip_name + " on every node " +
             seconds(Clock::now() - changed) +
             " after it started; established connections keep their backend (connection table)");
        phase = Phase::kBack;
        break;
      case Phase::kBack:
        break;
    }
    if (running) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (phase < Phase::kReturning) RAIL_TRY(tb.start_backend(o.backend));  // a short run
  auto status = traffic->wait(std::chrono::milliseconds(1000));
  if (!status || *status != 0)
    return make_error(ErrorCode::kSystem,
                      "rail-ctraffic failed (" +
                          (status ? "exit " + std::to_string(*status) : status.error().message) +
                          "); log " + log);
  return json_out;
}

// What the run's JSON says about the failure: losses only on the stopped backend, none after
// it came back. An error when it says otherwise.
Status check_failure_run(const Options& o, const std::string& json_path) {
  std::ifstream in(json_path);
  const json run = json::parse(in, nullptr, false);
  if (run.is_discarded() || !run.contains("summary"))
    return make_error(ErrorCode::kMalformed, json_path + ": not rail-ctraffic's JSON");
  const json& s = run["summary"];
  const std::string victim = Testbed::backend_role(o.backend);
  const uint64_t lost = s.value("lost_total", uint64_t{0});
  uint64_t lost_elsewhere = 0;
  std::string elsewhere;
  const json by_backend = s.value("lost_by_backend", json::object());
  for (const auto& [name, n] : by_backend.items()) {
    if (name == victim) continue;
    lost_elsewhere += n.get<uint64_t>();
    elsewhere += " " + name + "=" + std::to_string(n.get<uint64_t>());
  }
  uint64_t lost_after_return = 0;
  for (const json& sample : run.value("samples", json::array()))
    if (sample.value("t", 0.0) > o.restore_at_s + 1) lost_after_return += sample.value("lost", 0);
  const uint64_t initial_on_victim =
      s.value("initial_backends", json::object()).value(victim, uint64_t{0});
  std::printf("\n");
  note("lost " + std::to_string(lost) + " of " + std::to_string(o.connections) + " connections: " +
       (lost_elsewhere == 0 ? "all on " + victim + ", the stopped backend (" +
                                  std::to_string(initial_on_victim) + " had started there)"
                            : std::to_string(lost_elsewhere) + " on other backends:" + elsewhere) +
       "; " + std::to_string(s.value("reconnected", 0)) +
       " reconnected to the others; lost after " + victim +
       " came back: " + std::to_string(lost_after_return));
  if (lost == 0 || lost_elsewhere != 0 || lost_after_return != 0)
    return make_error(ErrorCode::kSystem,
                      "unexpected: the losses should be exactly the stopped backend's "
                      "connections (" +
                          json_path + ")");
  return ok();
}

// Steps 2-4 on a testbed that is up. Exit code.
int walk_through(Testbed& tb, const Options& o, StopSignals& stop, const std::string& out_dir) {
  auto failed = [](const Error& e) {
    std::fprintf(stderr, "rail-demo: error: %s\n", e.message.c_str());
    return kExitFailed;
  };
  const Topology& t = tb.topology();
  heading("2. Spread: " + std::to_string(o.spread) + " new connections from " +
          std::to_string(t.client_sources) + " client addresses to the VIP");
  if (Status st = show_spread(tb, o); !st) return failed(st.error());
  if (stop.pending()) return kExitInterrupted;

  heading("3. A backend fails under live traffic, then comes back");
  auto json_path = show_backend_failure(tb, o, stop, out_dir);
  if (stop.pending()) return kExitInterrupted;
  if (!json_path) return failed(json_path.error());
  const Status verdict = check_failure_run(o, *json_path);

  heading("4. The plot");
  std::printf(
      "alive / lost / reconnected connections over time (open it in a browser):\n"
      "   %s/backend-failure.svg\nthe run as JSON (samples and summary):\n"
      "   %s\n",
      out_dir.c_str(), json_path->c_str());
  return verdict ? 0 : failed(verdict.error());
}

int usage(const std::string& message) {
  std::fprintf(stderr, "rail-demo: error: %s\n%s", message.c_str(), kUsage);
  return kExitUsage;
}

// Parses a non-negative integer option value.
bool number(const std::string& text, int& out) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 0 || v > 1000000) return false;
  out = int(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  StopSignals stop;  // first: every thread inherits the blocked mask
  g_tty = isatty(STDOUT_FILENO) != 0;
  Options o;
  const std::map<std::string, int*> numbers = {
      {"--duration", &o.duration_s},     {"--fail-at", &o.fail_at_s},
      {"--restore-at", &o.restore_at_s}, {"--backend", &o.backend},
      {"--connections", &o.connections}, {"--spread", &o.spread},
      {"--timeout", &o.timeout_s}};
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg.rfind("--", 0) != 0) {
      if (!o.topology.empty()) return usage("more than one TOPOLOGY");
      o.topology = arg;
      continue;
    }
    if (a + 1 >= argc) return usage(arg + " needs a value");
    const std::string value = argv[++a];
    if (arg == "--out-dir") {
      o.out_dir = value;
    } else if (arg == "--bin-dir") {
      o.bin_dir = value;
    } else if (arg == "--name") {
      o.name = value;
    } else if (auto n = numbers.find(arg); n != numbers.end()) {
      if (!number(value, *n->second)) return usage(arg + ": not a number: " + value);
    } else {
      return usage("unknown option " + arg);
    }
  }
  if (o.topology.empty()) return usage("no TOPOLOGY file");
  if (!(o.fail_at_s >= 1 && o.fail_at_s < o.restore_at_s && o.restore_at_s < o.duration_s))
    return usage("need 1 <= --fail-at < --restore-at < --duration");
  if (o.connections < 1 || o.spread < 1 || o.timeout_s < 1)
    return usage("--connections, --spread and --timeout must be positive");

  auto topology = load_topology(o.topology);
  if (!topology) return usage(topology.error().message);
  if (!o.name.empty()) {  // through the parser, which checks the name
    auto named = parse_topology("name: " + o.name + "\n", "--name");
    if (!named) return usage(named.error().message);
    topology->name = named->name;
  }
  if (topology->balancer != Balancer::kRail) return usage("the demo needs balancer: rail");
  if (o.backend < 1 || o.backend > topology->backends)
    return usage("--backend " + std::to_string(o.backend) + ": no such backend");
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  const std::string out_dir = std::filesystem::absolute(o.out_dir, ec).lexically_normal();
  if (ec) return usage("--out-dir " + o.out_dir + ": " + ec.message());

  heading("1. The testbed: " + std::to_string(topology->rail_nodes) + " Rail nodes, " +
          std::to_string(topology->backends) + " backends (" + o.topology + ")");
  std::printf("$ rail-testbed up %s    (the same library, owned by this process)\n",
              o.topology.c_str());
  UpOptions up;
  up.bin_dir = o.bin_dir;
  up.ready_timeout = std::chrono::seconds(o.timeout_s);
  up.progress = [](const std::string& line) {
    std::printf("   %s\n", line.c_str());
    std::fflush(stdout);
  };
  const auto started = Clock::now();
  auto tb = Testbed::up(*topology, up);
  if (!tb) {
    std::fprintf(stderr, "rail-demo: error: %s\n", tb.error().message.c_str());
    return kExitFailed;
  }
  std::printf("   up in %s\n", seconds(Clock::now() - started).c_str());
  int code = 0;
  if (stop.pending()) {
    code = kExitInterrupted;
  } else if (Status st = show_topology(*tb); !st) {
    std::fprintf(stderr, "rail-demo: error: %s\n", st.error().message.c_str());
    code = kExitFailed;
  } else {
    code = walk_through(*tb, o, stop, out_dir);
  }
  if (code == kExitInterrupted || stop.pending()) {
    note(std::string("interrupted (") + strsignal(stop.signal() ? stop.signal() : SIGINT) + ")");
    code = kExitInterrupted;
  }

  heading("5. Tear down");
  const std::string name = tb->name();
  { Testbed gone = std::move(*tb); }
  int left = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec))
    if (entry.path().filename().string().rfind(namespace_prefix(name), 0) == 0) ++left;
  std::printf(
      "testbed %s removed: processes stopped, %d %s* namespaces left, state dir %s\n", name.c_str(),
      left, namespace_prefix(name).c_str(),
      std::filesystem::exists(kStateRoot + std::string("/") + name) ? "still there" : "gone");
  if (code == 0) std::printf("\ndemo: done\n");
  return left == 0 ? code : kExitFailed;
}
