// rail-testbed: build, use and remove a Rail testbed in network namespaces (docs/testbed.md).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tools/testbed/control.h"
#include "tools/testbed/testbed.h"

namespace {

using namespace rail;
using namespace rail::testbed;

constexpr int kExitUsage = 2;

const char* kUsage =
    "usage: rail-testbed [--state-root DIR] [--bin-dir DIR] COMMAND ...\n"
    "  up TOPOLOGY [--timeout SECONDS]    build it, stay in the foreground until Ctrl-C\n"
    "  run TOPOLOGY -- CMD...             build it, run CMD, tear down, exit with CMD's status\n"
    "  down NAME                          remove everything of testbed NAME (after a crash)\n"
    "  list                               testbeds with a state dir\n"
    "  exec NAME ROLE -- CMD...           run CMD in ROLE's namespace\n"
    "  railctl NAME NODE|all -- ARGS...   railctl against rail node NODE (railI or I) or all\n"
    "  backend NAME bJ stop|start         stop/start backend J's rail-nameserver\n"
    "  node NAME railI stop|start         fail / restore balancer node I\n";

struct Globals {
  std::string state_root = kStateRoot;
  std::string bin_dir;
};

// Commands run by `run` and `exec` find the build's tools (rail-mconnect, railctl, ...) and
// rail-testbed itself by name.
void put_tools_on_path(const Globals& g) {
  std::string dirs = tool_dirs(g.bin_dir);
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string exe(self, size_t(n));
    dirs += (dirs.empty() ? "" : ":") + exe.substr(0, exe.rfind('/'));
  }
  const char* path = std::getenv("PATH");
  const std::string all = dirs + ":" + (path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  setenv("PATH", all.c_str(), 1);
}

int fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return code;
}

int usage(const std::string& message) {
  std::fprintf(stderr, "error: %s\n%s", message.c_str(), kUsage);
  return kExitUsage;
}

// The words after "--" (or after `from` when there is no "--").
std::vector<std::string> after_dashes(const std::vector<std::string>& args, size_t from) {
  size_t i = from;
  if (i < args.size() && args[i] == "--") ++i;
  return {args.begin() + long(std::min(i, args.size())), args.end()};
}

// "rail2", "lb2", "2" -> 2; "b3", "3" -> 3; 0 on anything else.
int index_of(const std::string& word, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (word.rfind(p, 0) != 0) continue;
    const std::string digits = word.substr(p.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    return std::atoi(digits.c_str());
  }
  return 0;
}

void print_summary(const Testbed& tb) {
  const Topology& t = tb.topology();
  std::printf("\ntestbed %s is up: %d %s nodes, %d backends, %d clients; ingress %s;",
              t.name.c_str(), t.rail_nodes, to_string(t.balancer), t.backends, t.clients,
              to_string(t.ingress));
  for (Family f : t.families) std::printf(" %s", to_string(f));
  std::printf("\n\n%-9s %-20s %s\n", "ROLE", "NAMESPACE", "ADDRESSES");
  auto addrs = [&](auto fn) {
    std::string out;
    for (Family f : t.families) out += (out.empty() ? "" : " ") + fn(f);
    return out;
  };
  std::printf("%-9s %-20s %s\n", "sw", tb.ns("sw").c_str(), "bridge br0 (fabric)");
  std::printf("%-9s %-20s fabric %s, clients %s\n", "router", tb.ns("router").c_str(),
              addrs([](Family f) { return router_fabric(f).to_string(); }).c_str(),
              addrs([](Family f) { return router_client_side(f).to_string(); }).c_str());
  for (int k = 1; k <= t.clients; ++k) {
    const std::string role = "client" + std::to_string(k);
    std::printf("%-9s %-20s %s\n", role.c_str(), tb.ns(role).c_str(),
                addrs([&](Family f) { return tb.sources(k, f); }).c_str());
  }
  for (int i = 1; i <= t.rail_nodes; ++i) {
    std::printf("%-9s %-20s %s%s\n", tb.node_role(i).c_str(), tb.ns(tb.node_role(i)).c_str(),
                addrs([&](Family f) { return node_address(i, f).to_string(); }).c_str(),
                t.balancer == Balancer::kRail ? "  (raild API 127.0.0.1:9180)" : "  (haproxy)");
  }
  for (int j = 1; j <= t.backends; ++j) {
    const std::string role = Testbed::backend_role(j);
    std::printf("%-9s %-20s %s\n", role.c_str(), tb.ns(role).c_str(),
                addrs([&](Family f) { return backend_address(j, f).to_string(); }).c_str());
  }
  std::printf("\nVIPs (tcp%s): %s port %u\nstate, configs and logs: %s\n\ntry:\n",
              t.balancer == Balancer::kRail ? " and udp" : "",
              addrs([](Family f) { return vip(f).to_string(); }).c_str(), t.port,
              tb.state_dir().c_str());
  std::printf("  rail-testbed exec %s client1 -- curl -s http://%s:%u/\n", t.name.c_str(),
              vip(t.families.front()).to_string().c_str(), t.port);
  if (t.balancer == Balancer::kRail) {
    std::printf("  rail-testbed railctl %s all -- vips\n", t.name.c_str());
    std::printf("  rail-testbed railctl %s rail1 -- vip %s\n", t.name.c_str(),
                Testbed::vip_name(t.families.front(), false).c_str());
  }
  std::printf("  rail-testbed backend %s b2 stop\n", t.name.c_str());
  std::printf("  rail-testbed node %s %s stop\n", t.name.c_str(), tb.node_role(1).c_str());
  std::printf("\nCtrl-C (or SIGTERM) tears everything down.\n");
  std::fflush(stdout);
}

Result<Testbed> bring_up(const Globals& g, const std::string& path, int timeout_s) {
  auto topology = load_topology(path);
  if (!topology) return topology.error();
  UpOptions options;
  options.state_root = g.state_root;
  options.bin_dir = g.bin_dir;
  options.ready_timeout = std::chrono::milliseconds(timeout_s * 1000);
  options.progress = [](const std::string& line) {
    std::printf("rail-testbed: %s\n", line.c_str());
    std::fflush(stdout);
  };
  return Testbed::up(*topology, options);
}

// Blocks the stop signals in every thread started from here on; sigwait() takes them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int cmd_up(const Globals& g, const std::vector<std::string>& args) {
  if (args.empty()) return usage("up needs a TOPOLOGY file");
  int timeout_s = 20;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--timeout" && i + 1 < args.size())
      timeout_s = std::atoi(args[++i].c_str());
    else
      return usage("up: unexpected \"" + args[i] + "\"");
  }
  if (timeout_s <= 0) return usage("--timeout needs a positive number of seconds");
  sigset_t stop = block_stop_signals();
  auto tb = bring_up(g, args[0], timeout_s);
  if (!tb) return fail(tb.error().message);
  auto control = ControlServer::start(tb->state_dir() + "/control.sock", *tb);
  if (!control) return fail(control.error().message);
  print_summary(*tb);
  int sig = 0;
  sigwait(&stop, &sig);
  std::printf("rail-testbed: %s: tearing down %s\n", strsignal(sig), tb->name().c_str());
  std::fflush(stdout);
  control->reset();
  { Testbed gone = std::move(*tb); }
  std::printf("rail-testbed: testbed removed\n");
  return 0;
}

int cmd_run(const Globals& g, const std::vector<std::string>& args) {
  if (args.empty()) return usage("run needs a TOPOLOGY file");
  std::vector<std::string> command = after_dashes(args, 1);
  if (command.empty()) return usage("run needs a command after --");
  sigset_t stop = block_stop_signals();
  sigaddset(&stop, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto tb = bring_up(g, args[0], 20);
  if (!tb) return fail(tb.error().message);
  auto control = ControlServer::start(tb->state_dir() + "/control.sock", *tb);
  if (!control) return fail(control.error().message);
  const Topology& t = tb->topology();
  put_tools_on_path(g);
  setenv("RAIL_TESTBED", t.name.c_str(), 1);
  setenv("RAIL_TESTBED_STATE", tb->state_dir().c_str(), 1);
  setenv("RAIL_PORT", std::to_string(t.port).c_str(), 1);
  setenv("RAIL_CLIENT_NS", tb->ns("client1").c_str(), 1);
  for (Family f : t.families) {
    const std::string n = f == Family::kV4 ? "4" : "6";
    setenv(("RAIL_VIP" + n).c_str(), vip(f).to_string().c_str(), 1);
    setenv(("RAIL_SOURCES" + n).c_str(), tb->sources(1, f).c_str(), 1);
  }
  std::vector<char*> argv;
  for (auto& a : command) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::printf("rail-testbed: testbed %s is up; running %s\n", t.name.c_str(), argv[0]);
  std::fflush(stdout);
  const pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // CMD does not outlive a killed rail-testbed
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execvp(argv[0], argv.data());
    std::fprintf(stderr, "error: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  if (child < 0) return fail(std::string("fork: ") + std::strerror(errno));
  int status = 0;
  for (;;) {
    int sig = 0;
    sigwait(&stop, &sig);
    if (sig != SIGCHLD) kill(child, SIGTERM);  // then wait for it to go
    if (waitpid(child, &status, WNOHANG) == child) break;
  }
  control->reset();
  { Testbed gone = std::move(*tb); }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int cmd_down(const Globals& g, const std::vector<std::string>& args) {
  if (args.size() != 1) return usage("down needs exactly one NAME");
  std::string removed;
  Status st = down(args[0], g.state_root, &removed);
  std::fputs(removed.c_str(), stdout);
  if (!st) return fail(st.error().message);
  if (removed.empty()) std::printf("nothing of testbed %s was left\n", args[0].c_str());
  return 0;
}

int cmd_list(const Globals& g) {
  std::printf("%-10s %-8s %-8s %-10s %s\n", "NAME", "OWNER", "STATE", "BALANCER", "ACTIVE NODES");
  for (const std::string& name : list_testbeds(g.state_root)) {
    auto state = StateFile::read(g.state_root, name);
    if (!state) {
      std::printf("%-10s %-8s %-8s\n", name.c_str(), "-", "unreadable");
      continue;
    }
    const bool alive = owner_alive(*state);
    std::printf("%-10s %-8d %-8s %-10s %s\n", name.c_str(), (*state)["owner"].value("pid", 0),
                alive ? "running" : "crashed", state->value("balancer", "?").c_str(),
                state->value("active_nodes", "").c_str());
  }
  return 0;
}

// exec/railctl/backend/node act on a testbed owned by another process.
Result<nlohmann::json> running_state(const Globals& g, const std::string& name) {
  auto state = StateFile::read(g.state_root, name);
  if (!state) return state.error();
  if (!owner_alive(*state))
    return make_error(ErrorCode::kNotFound, "testbed " + name +
                                                " is not running (its owner died); run "
                                                "`rail-testbed down " +
                                                name + "`");
  return state;
}

int exec_in(const std::string& ns, const std::vector<std::string>& command) {
  std::vector<std::string> all = {ip_binary(), "netns", "exec", ns};
  all.insert(all.end(), command.begin(), command.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  return fail(std::string("exec ") + argv[0] + ": " + std::strerror(errno));
}

int cmd_exec(const Globals& g, const std::vector<std::string>& args) {
  if (args.size() < 3) return usage("exec needs NAME ROLE -- CMD...");
  auto state = running_state(g, args[0]);
  if (!state) return fail(state.error().message);
  if (!(*state)["roles"].contains(args[1]))
    return fail("testbed " + args[0] + " has no role \"" + args[1] + "\"");
  auto command = after_dashes(args, 2);
  if (command.empty()) return usage("exec needs a command after --");
  put_tools_on_path(g);
  return exec_in((*state)["roles"][args[1]].get<std::string>(), command);
}

int cmd_railctl(const Globals& g, const std::vector<std::string>& args) {
  if (args.size() < 2) return usage("railctl needs NAME NODE|all -- ARGS...");
  auto state = running_state(g, args[0]);
  if (!state) return fail(state.error().message);
  const std::string prefix = state->value("node_prefix", "rail");
  if (prefix != "rail") return fail("testbed " + args[0] + " runs HAProxy, not raild");
  std::vector<std::string> nodes;
  if (args[1] == "all") {
    std::string active = state->value("active_nodes", "");
    for (size_t at = 0; at < active.size();) {
      size_t end = active.find(' ', at);
      nodes.push_back(active.substr(at, end - at));
      at = end == std::string::npos ? active.size() : end + 1;
    }
  } else if (int i = index_of(args[1], {"rail", ""}); i >= 1 && i <= state->value("nodes", 0)) {
    nodes.push_back("rail" + std::to_string(i));
  } else {
    return usage("no rail node \"" + args[1] + "\" in " + args[0]);
  }
  std::vector<std::string> railctl_args = after_dashes(args, 2);
  railctl_args.insert(railctl_args.begin(), state->value("railctl", "railctl"));
  if (nodes.size() == 1) return exec_in((*state)["roles"][nodes[0]], railctl_args);
  int worst = 0;
  for (const std::string& node : nodes) {
    std::vector<std::string> argv = {ip_binary(), "netns", "exec",
                                     (*state)["roles"][node].get<std::string>()};
    argv.insert(argv.end(), railctl_args.begin(), railctl_args.end());
    auto r = run_status(argv);
    if (!r) return fail(r.error().message);
    std::printf("[%s]\n%s", node.c_str(), r->output.c_str());
    worst = std::max(worst, r->status);
  }
  return worst;
}

int cmd_control(const Globals& g, const std::vector<std::string>& args, const std::string& what) {
  if (args.size() != 3 || (args[2] != "stop" && args[2] != "start"))
    return usage(what + " needs NAME " + (what == "backend" ? "bJ" : "railI") + " stop|start");
  auto state = running_state(g, args[0]);
  if (!state) return fail(state.error().message);
  const int index =
      what == "backend" ? index_of(args[1], {"b", ""}) : index_of(args[1], {"rail", "lb", ""});
  if (index <= 0) return usage("\"" + args[1] + "\" is not a " + what);
  auto answer = control_request(g.state_root + "/" + args[0] + "/control.sock",
                                what + " " + std::to_string(index) + " " + args[2]);
  if (!answer) return fail(answer.error().message);
  std::printf("%s %s: %s\n", args[1].c_str(), args[2] == "stop" ? "stopped" : "started",
              args[0].c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Globals g;
  while (!args.empty() && args[0].rfind("--", 0) == 0 && args[0] != "--") {
    if (args[0] == "--help" || args[0] == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args.size() < 2) return usage(args[0] + " needs a value");
    if (args[0] == "--state-root")
      g.state_root = args[1];
    else if (args[0] == "--bin-dir")
      g.bin_dir = args[1];
    else
      return usage("unknown option " + args[0]);
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty()) return usage("no command");
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "up") return cmd_up(g, args);
  if (command == "run") return cmd_run(g, args);
  if (command == "down") return cmd_down(g, args);
  if (command == "list") return cmd_list(g);
  if (command == "exec") return cmd_exec(g, args);
  if (command == "railctl") return cmd_railctl(g, args);
  if (command == "backend") return cmd_control(g, args, "backend");
  if (command == "node") return cmd_control(g, args, "node");
  return usage("unknown command \"" + command + "\"");
}
