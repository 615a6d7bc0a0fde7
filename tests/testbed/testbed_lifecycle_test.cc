// The testbed's topology file and lifecycle: positioned errors, complete teardown, and the
// sweep of a crashed (SIGKILLed) `rail-testbed up` by `rail-testbed down`.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/testbed/testbed.h"

#ifndef RAIL_TESTBED_CLI
#error "RAIL_TESTBED_CLI (the rail-testbed binary) must be defined by the build"
#endif

namespace rail::testbed {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> namespaces_of(const std::string& name) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/run/netns", ec)) {
    const std::string n = e.path().filename();
    if (n.rfind(namespace_prefix(name), 0) == 0) out.push_back(n);
  }
  return out;
}

// Processes whose command line mentions `needle` (e.g. the testbed's state dir).
std::vector<pid_t> processes_mentioning(const std::string& needle) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(needle) != std::string::npos && pid_t(std::stol(pid)) != getpid())
      out.push_back(pid_t(std::stol(pid)));
  }
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TestbedTopology, ErrorsNameFileLineAndField) {
  auto t = parse_topology(
      "name: Demo-1\nrail_nodes: 0\ningress: vxlan\nfamilies: [ipv4, ipv5]\nchek: {}\n"
      "check: {type: tcp, interval: 2}\n",
      "bad.yaml");
  ASSERT_FALSE(t);
  const std::string& m = t.error().message;
  EXPECT_NE(m.find("bad.yaml:1:7: name: \"Demo-1\" must be 1..8 characters"), std::string::npos)
      << m;
  EXPECT_NE(m.find("bad.yaml:2:13: rail_nodes:"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yaml:3:10: ingress: \"vxlan\" is not one of plain or gre"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("families: \"ipv5\" is not one of ipv4 or ipv6"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yaml:5:1: chek: unknown key (did you mean \"check\"?)"), std::string::npos)
      << m;
  EXPECT_NE(m.find("check.interval: 2 needs a unit"), std::string::npos) << m;
  EXPECT_FALSE(parse_topology("clients: 5\nclient_sources: 50\n", "t.yaml"));
  EXPECT_FALSE(parse_topology("balancer: haproxy\ningress: gre\n", "t.yaml"));
}

TEST(TestbedTopology, DefaultsAndAddressing) {
  auto t = parse_topology("", "empty.yaml");
  ASSERT_TRUE(t) << t.error().describe();
  EXPECT_EQ(t->name, "demo");
  EXPECT_EQ(t->rail_nodes, 2);
  EXPECT_EQ(t->backends, 4);
  EXPECT_EQ(t->clients, 1);
  EXPECT_EQ(t->client_sources, 50);
  EXPECT_EQ(t->port, 8080);
  EXPECT_EQ(t->table_size, 65537u);
  EXPECT_TRUE(t->has(Family::kV4) && t->has(Family::kV6));
  EXPECT_EQ(node_address(1, Family::kV6).to_string(), "2001:db8::11");
  EXPECT_EQ(backend_address(3, Family::kV4).to_string(), "198.18.0.103");
  EXPECT_EQ(client_source(*t, 1, 49, Family::kV4).to_string(), "198.18.1.59");
  EXPECT_EQ(client_source(*t, 1, 49, Family::kV6).to_string(), "2001:db8:1::41");
  EXPECT_EQ(client_source(*t, 2, 0, Family::kV4).to_string(), "198.18.1.60");
}

TEST(TestbedLifecycle, DestroyLeavesNoNamespaceProcessOrStateDir) {
  auto t = parse_topology("name: tbdown\nrail_nodes: 1\nbackends: 2\nfamilies: [ipv4]\n", "t");
  ASSERT_TRUE(t);
  std::optional<Process> sleeper;  // a caller's process that outlives the testbed object
  std::string dir;
  std::vector<pid_t> recorded;
  {
    auto tb = Testbed::up(*t);
    ASSERT_TRUE(tb) << tb.error().describe();
    dir = tb->state_dir();
    EXPECT_EQ(namespaces_of("tbdown").size(), 6u);  // sw router client1 rail1 b1 b2
    auto again = Testbed::up(*t);
    ASSERT_FALSE(again) << "a second testbed of the same name";
    EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists) << again.error().describe();
    auto p = tb->spawn("b1", {"sleep", "1000"}, dir + "/sleep.log");
    ASSERT_TRUE(p) << p.error().describe();
    sleeper.emplace(std::move(*p));
    auto state = StateFile::read(kStateRoot, "tbdown");
    ASSERT_TRUE(state);
    for (const auto& p : (*state)["processes"]) recorded.push_back(p.value("pid", 0));
    EXPECT_EQ(recorded.size(), 3u) << state->dump();  // raild + 2 rail-nameservers
  }
  for (pid_t pid : recorded) EXPECT_NE(kill(pid, 0), 0) << "pid " << pid << " still exists";
  EXPECT_TRUE(namespaces_of("tbdown").empty());
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(processes_mentioning(dir).empty());
  EXPECT_FALSE(sleeper->running()) << "teardown kills what runs in its namespaces";
}

TEST(TestbedLifecycle, RunExportsTheTestbedAndReturnsTheCommandsStatus) {
  const std::string topo = "/tmp/rail-testbed-run-" + std::to_string(getpid()) + ".yaml";
  std::ofstream(topo) << "name: tbrun\nrail_nodes: 1\nbackends: 2\nfamilies: [ipv4]\n";
  // The command reaches a backend through the VIP, then uses the control socket of its owner.
  const std::string script = std::string("ip netns exec $RAIL_CLIENT_NS curl -s -m 2 ") +
                             "http://$RAIL_VIP4:$RAIL_PORT/ && " + RAIL_TESTBED_CLI +
                             " backend $RAIL_TESTBED b1 stop && exit 7";
  auto r = run_status({RAIL_TESTBED_CLI, "run", topo, "--", "/bin/sh", "-c", script});
  fs::remove(topo);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->status, 7) << r->output;
  EXPECT_NE(r->output.find("testbed tbrun is up"), std::string::npos) << r->output;
  EXPECT_TRUE(r->output.find("\nb1\n") != std::string::npos ||
              r->output.find("\nb2\n") != std::string::npos)
      << r->output;
  EXPECT_NE(r->output.find("b1 stopped: tbrun"), std::string::npos) << r->output;
  EXPECT_TRUE(namespaces_of("tbrun").empty());
  EXPECT_FALSE(fs::exists("/run/rail-testbed/tbrun"));
}

TEST(TestbedLifecycle, KilledUpIsSweptByDown) {
  const std::string topo = "/tmp/rail-testbed-test-" + std::to_string(getpid()) + ".yaml";
  std::ofstream(topo) << "name: tbcrash\nrail_nodes: 2\nbackends: 2\nfamilies: [ipv4]\n";
  const std::string out = topo + ".out";
  const pid_t up = fork();
  if (up == 0) {
    FILE* f = std::freopen(out.c_str(), "w", stdout);
    (void)f;
    execl(RAIL_TESTBED_CLI, RAIL_TESTBED_CLI, "up", topo.c_str(), nullptr);
    _exit(127);
  }
  ASSERT_GT(up, 0);
  const bool is_up = wait_until([&] { return slurp(out).find("is up") != std::string::npos; },
                                std::chrono::milliseconds(30000));
  auto state = StateFile::read(kStateRoot, "tbcrash");
  kill(up, SIGKILL);
  waitpid(up, nullptr, 0);
  ASSERT_TRUE(is_up) << slurp(out);
  ASSERT_TRUE(state) << state.error().describe();
  EXPECT_EQ((*state)["processes"].size(), 4u) << state->dump();  // 2 raild, 2 nameservers
  // Its children die with it (parent-death signal); namespaces and the state dir stay.
  EXPECT_TRUE(wait_until([] { return processes_mentioning("/run/rail-testbed/tbcrash").empty(); },
                         std::chrono::milliseconds(3000)));
  EXPECT_EQ(namespaces_of("tbcrash").size(), 7u);
  EXPECT_TRUE(fs::exists("/run/rail-testbed/tbcrash/state.json"));

  auto down = run_status({RAIL_TESTBED_CLI, "down", "tbcrash"});
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 0) << down->output;
  std::printf("[ down     ] %s", down->output.c_str());
  EXPECT_TRUE(namespaces_of("tbcrash").empty());
  EXPECT_FALSE(fs::exists("/run/rail-testbed/tbcrash"));
  auto again = run_status({RAIL_TESTBED_CLI, "down", "tbcrash"});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 0) << again->output;
  EXPECT_NE(again->output.find("nothing"), std::string::npos) << again->output;
  fs::remove(topo);
  fs::remove(out);
}

}  // namespace
}  // namespace rail::testbed
