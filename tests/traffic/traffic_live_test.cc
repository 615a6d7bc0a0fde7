// Live tests of the traffic tools: the real binaries in network namespaces. A client namespace
// reaches VIP 198.18.0.100 / 2001:db8::100 over an L4-hash ECMP route through two veths, one
// to each backend namespace; each backend has the VIP on lo and runs a real rail-nameserver
// (b1, b2). The kernel's multipath hash plays the load balancer, so the tools see two backends
// behind one target, and killing one nameserver loses exactly the connections it held.
// Every process is started by the testbed's Spawner: killed by its Process's destructor, and
// by PR_SET_PDEATHSIG when the test process dies without running destructors.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "netns.h"
#include "test_dir.h"
#include "tools/testbed/process.h"
#include "tools/traffic/socket_util.h"

namespace rail::traffic {
namespace {

using json = nlohmann::json;
using e2e::read_file;
using std::chrono::milliseconds;
using testbed::Process;

constexpr const char* kVip = "198.18.0.100";
constexpr const char* kTarget = "198.18.0.100:8080";
constexpr const char* kTarget6 = "[2001:db8::100]:8080";
constexpr const char* kSources = "198.18.1.10-198.18.1.19";

std::string tool(const std::string& name) {
  return std::string(RAIL_TRAFFIC_BIN_DIR) + "/" + name;
}

// Evaluates a Result; on error fails the current test (returning from the void function).
#define ASSERT_OK_AND_TAKE(var, expr)                           \
  auto var##_result = (expr);                                   \
  ASSERT_TRUE(var##_result) << var##_result.error().describe(); \
  auto var = std::move(*var##_result)

struct ToolResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class TrafficLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_OK_AND_TAKE(client, e2e::Netns::create("tclient"));
    client_.emplace(std::move(client));
    ASSERT_OK_AND_TAKE(b1, e2e::Netns::create("tb1"));
    backends_.push_back(std::move(b1));
    ASSERT_OK_AND_TAKE(b2, e2e::Netns::create("tb2"));
    backends_.push_back(std::move(b2));
    // No duplicate address detection on the veths made next: while their link-local addresses
    // are tentative, neighbour discovery stalls and the first IPv6 connections time out.
    for (const e2e::Netns* ns : {&*client_, &backends_[0], &backends_[1]}) {
      exec(*ns, "sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
    }
    for (int n = 0; n < 2; ++n) {
      const std::string v = "v" + std::to_string(n + 1);
      ASSERT_OK_AND_TAKE(veth, e2e::VethPair::create(*client_, v, backends_[size_t(n)], "e0"));
      veths_.push_back(std::move(veth));
      // 198.18.2.0/30 and 198.18.2.4/30; 2001:db8:2::/64 and 2001:db8:3::/64.
      const std::string near4 = "198.18.2." + std::to_string(4 * n + 1);
      const std::string far4 = "198.18.2." + std::to_string(4 * n + 2);
      const std::string net6 = "2001:db8:" + std::to_string(n + 2) + "::";
      exec(*client_, "ip addr add " + near4 + "/30 dev " + v);
      exec(*client_, "ip -6 addr add " + net6 + "1/64 dev " + v + " nodad");
      const e2e::Netns& b = backends_[size_t(n)];
      exec(b, "ip addr add " + far4 + "/30 dev e0");
      exec(b, "ip -6 addr add " + net6 + "2/64 dev e0 nodad");
      exec(b, std::string("ip addr add ") + kVip + "/32 dev lo");
      exec(b, "ip -6 addr add 2001:db8::100/128 dev lo");
      exec(b, "ip route add default via " + near4);
      exec(b, "ip -6 route add default via " + net6 + "1");
    }
    for (int i = 10; i <= 19; ++i)
      exec(*client_, "ip addr add 198.18.1." + std::to_string(i) + "/32 dev lo");
    exec(*client_, "ip -6 addr add 2001:db8:1::10/128 dev lo");
    exec(*client_, "ip -6 addr add 2001:db8:1::11/128 dev lo");
    // Hash on the 5-tuple (policy 1), so each connection picks a backend by its ports.
    exec(*client_, "sysctl -qw net.ipv4.fib_multipath_hash_policy=1");
    exec(*client_, "sysctl -qw net.ipv6.fib_multipath_hash_policy=1");
    exec(*client_, std::string("ip route add ") + kVip +
                       "/32 nexthop via 198.18.2.2 dev v1 nexthop via 198.18.2.6 dev v2");
    exec(*client_,
         "ip -6 route add 2001:db8::100/128 nexthop via 2001:db8:2::2 dev v1 nexthop via "
         "2001:db8:3::2 dev v2");
    start_nameserver(0);
    start_nameserver(1);
  }

  void exec(const e2e::Netns& ns, const std::string& command) {
    auto r = ns.exec(command);
    ASSERT_TRUE(r) << r.error().describe();
  }

  std::vector<std::string> in_ns(const e2e::Netns& ns, std::vector<std::string> argv) {
    argv.insert(argv.begin(), {testbed::ip_binary(), "netns", "exec", ns.name()});
    return argv;
  }

  std::string file(const std::string& name) const { return dir_.path() + "/" + name; }

  void start_nameserver(size_t n) {
    const std::string name = "b" + std::to_string(n + 1);
    const std::string err = file(name + ".err");
    ASSERT_OK_AND_TAKE(
        server, spawner_.spawn(in_ns(backends_[n], {tool("rail-nameserver"), "--name", name}),
                               "/dev/null", err));
    servers_[n] = std::move(server);
    if (testbed::wait_until(  // up to 3 s for the "listening" line
            [&] { return read_file(err).find("listening on") != std::string::npos; },
            milliseconds(3000), milliseconds(10))) {
      return;
    }
    FAIL() << name << " did not start: " << read_file(err);
  }

  // Runs a tool in the client namespace to completion (bounded by `timeout`).
  ToolResult run(const std::vector<std::string>& argv, milliseconds timeout = milliseconds(10000)) {
    static int runs = 0;
    const std::string out = file("run" + std::to_string(runs) + ".out");
    const std::string err = file("run" + std::to_string(runs++) + ".err");
    ToolResult result;
    auto child = spawner_.spawn(in_ns(*client_, argv), out, err);
    if (!child) {
      ADD_FAILURE() << child.error().describe();
      return result;
    }
    auto code = child->wait(timeout);
    EXPECT_TRUE(code) << argv[0] << ": " << code.error().describe();
    result.exit_code = code ? *code : -1;
    result.out = read_file(out);
    result.err = read_file(err);
    return result;
  }

  Result<Process> start_in_client(const std::vector<std::string>& argv, const std::string& label) {
    return spawner_.spawn(in_ns(*client_, argv), file(label + ".out"), file(label + ".err"));
  }

  // Destroyed in reverse: the processes first, then the spawner's thread, the namespaces, and
  // the temp dir with every output file.
  e2e::TempDir dir_{"rail-traffic-test-"};
  std::optional<e2e::Netns> client_;
  std::vector<e2e::Netns> backends_;
  std::vector<e2e::VethPair> veths_;
  testbed::Spawner spawner_;
  Process servers_[2];
};

json parse_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

// A blocking socket in the calling thread's namespace, every call bounded by 2 s.
UniqueFd blocking_socket(int family, int type) {
  UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, 0));
  timeval timeout{2, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  return fd;
}

Status connect_to(int fd, const std::string& target) {
  auto endpoint = parse_endpoint(target);
  if (!endpoint) return endpoint.error();
  sockaddr_storage storage;
  socklen_t length = endpoint->to_sockaddr(storage);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return errno_error("connect " + target);
  }
  return ok();
}

// Reads until EOF, `want` bytes, or the 2 s receive timeout.
std::string read_some(int fd, size_t want = SIZE_MAX) {
  std::string out;
  char buffer[4096];
  while (out.size() < want) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    out.append(buffer, size_t(n));
  }
  return out;
}

TEST_F(TrafficLiveTest, NameserverAnswersLinesHttpAndUdpFromTheVip) {
  Status s = client_->run([&]() -> Status {
    UniqueFd tcp = blocking_socket(AF_INET, SOCK_STREAM);
    RAIL_TRY(connect_to(tcp.get(), "198.18.2.2:8080"));  // b1 itself, not the VIP
    std::string lines = "one\ntwo words\r\n";
    EXPECT_EQ(::send(tcp.get(), lines.data(), lines.size(), 0), ssize_t(lines.size()));
    EXPECT_EQ(read_some(tcp.get(), 20), "b1 one\nb1 two words\n");

    UniqueFd http = blocking_socket(AF_INET, SOCK_STREAM);
    RAIL_TRY(connect_to(http.get(), "198.18.2.6:8080"));  // b2
    std::string get = "GET /health HTTP/1.1\r\nHost: b2\r\n\r\n";
    EXPECT_EQ(::send(http.get(), get.data(), get.size(), 0), ssize_t(get.size()));
    std::string response = read_some(http.get());  // the server closes after answering
    EXPECT_TRUE(response.starts_with("HTTP/1.0 200 OK\r\n")) << response;
    EXPECT_NE(response.find("Content-Type: text/plain\r\n"), std::string::npos) << response;
    EXPECT_NE(response.find("Content-Length: 3\r\n"), std::string::npos) << response;
    EXPECT_TRUE(response.ends_with("\r\n\r\nb2\n")) << response;

    // UDP through the VIP: the reply comes from the VIP (not the backend's veth address).
    UniqueFd udp = blocking_socket(AF_INET, SOCK_DGRAM);
    sockaddr_storage vip;
    socklen_t vip_length = parse_endpoint(kTarget)->to_sockaddr(vip);
    EXPECT_EQ(::sendto(udp.get(), "ping", 4, 0, reinterpret_cast<sockaddr*>(&vip), vip_length), 4);
    char reply[64];
    sockaddr_storage from;
    socklen_t from_length = sizeof(from);
    ssize_t n = ::recvfrom(udp.get(), reply, sizeof(reply), 0, reinterpret_cast<sockaddr*>(&from),
                           &from_length);
    EXPECT_GT(n, 0);
    std::string text(reply, size_t(std::max<ssize_t>(n, 0)));
    EXPECT_TRUE(text == "b1 ping" || text == "b2 ping") << text;
    EXPECT_EQ(Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), from_length).to_string(),
              kTarget);
    return ok();
  });
  EXPECT_TRUE(s) << s.error().describe();

  // A nameserver that cannot bind says why and exits 2.
  ASSERT_OK_AND_TAKE(child, spawner_.spawn(in_ns(backends_[0], {tool("rail-nameserver"), "--name",
                                                                "x", "--bind", "198.18.9.9"}),
                                           "/dev/null", file("bad.err")));
  auto code = child.wait(milliseconds(3000));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  EXPECT_NE(read_file(file("bad.err")).find("cannot bind 198.18.9.9:8080/tcp"), std::string::npos);
}

TEST_F(TrafficLiveTest, MconnectSeesBothBackendsOverTcpUdpAndIpv6) {
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--target", kTarget, "--sources", kSources},
        std::vector<std::string>{"--target", kTarget, "--sources", kSources, "--udp"},
        std::vector<std::string>{"--target", kTarget6, "--sources",
                                 "2001:db8:1::10-2001:db8:1::11"}}) {
    std::vector<std::string> argv = {tool("rail-mconnect"), "--connections", "400", "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ToolResult r = run(argv);
    SCOPED_TRACE(r.out + r.err);
    EXPECT_EQ(r.exit_code, 0);
    json j = parse_json(r.out);
    EXPECT_EQ(j["connections"], 400);
    EXPECT_EQ(j["ok"], 400);
    EXPECT_EQ(j["failed"], 0);
    EXPECT_GT(j["rate_per_s"].get<double>(), 0);
    ASSERT_EQ(j["backends"].size(), 2u);
    // 400 connections hashed over two paths: each side gets a fair share.
    EXPECT_GT(j["backends"]["b1"].get<int>(), 100);
    EXPECT_GT(j["backends"]["b2"].get<int>(), 100);
  }
  // The human table.
  ToolResult text = run({tool("rail-mconnect"), "--target", kTarget, "--connections", "50"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("50 connections, 50 ok, 0 failed"), std::string::npos) << text.out;
}

TEST_F(TrafficLiveTest, MconnectCountsFailuresAndExitsOne) {
  ToolResult refused =
      run({tool("rail-mconnect"), "--target", "198.18.0.100:9", "--connections", "50", "--json"});
  EXPECT_EQ(refused.exit_code, 1);
  json j = parse_json(refused.out);
  EXPECT_EQ(j["failed"], 50);
  EXPECT_EQ(j["errors"]["refused"], 50);
  // UDP to a port nobody serves: ICMP port unreachable surfaces as "refused" too.
  ToolResult udp = run({tool("rail-mconnect"), "--target", "198.18.0.100:9", "--connections", "20",
                        "--udp", "--timeout", "500ms", "--json"});
  EXPECT_EQ(udp.exit_code, 1);
  EXPECT_EQ(parse_json(udp.out)["failed"], 20);
  ToolResult usage = run({tool("rail-mconnect"), "--target", "198.18.0.100"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("error: --target"), std::string::npos) << usage.err;
}

TEST_F(TrafficLiveTest, CtrafficLosesExactlyTheKilledBackendsConnectionsAndReconnects) {
  const std::string json_path = file("ct.json");
  const std::string svg_path = file("ct.svg");
  ASSERT_OK_AND_TAKE(
      ctraffic, start_in_client({tool("rail-ctraffic"), "--target", kTarget, "--connections", "20",
                                 "--rate", "20", "--duration", "4s", "--sources", kSources,
                                 "--progress", "--json-out", json_path, "--svg-out", svg_path},
                                "ct"));
  std::this_thread::sleep_for(milliseconds(1300));
  servers_[0].signal(SIGTERM);
  auto b1_exit = servers_[0].wait(milliseconds(3000));
  ASSERT_TRUE(b1_exit);
  EXPECT_EQ(*b1_exit, 0);
  auto code = ctraffic.wait(milliseconds(10000));
  ASSERT_TRUE(code);
  const std::string out = read_file(file("ct.out"));
  const std::string err = read_file(file("ct.err"));
  SCOPED_TRACE(out + err);
  EXPECT_EQ(*code, 0);

  json j = parse_json(read_file(json_path));
  const json& summary = j["summary"];
  const int on_b1 = summary["initial_backends"].value("b1", 0);
  const int on_b2 = summary["initial_backends"].value("b2", 0);
  ASSERT_GT(on_b1, 0);
  ASSERT_GT(on_b2, 0);
  EXPECT_EQ(on_b1 + on_b2, 20);
  // Exactly b1's connections were lost, all of them on b1, by b1 closing them.
  EXPECT_EQ(summary["lost_total"], on_b1);
  EXPECT_EQ(summary["lost_by_backend"], json({{"b1", on_b1}}));
  // Closed by b1: FIN, or RST when a message had arrived unread when b1 closed the socket.
  EXPECT_EQ(
      summary["lost_by_reason"]["eof"].get<int>() + summary["lost_by_reason"]["reset"].get<int>(),
      on_b1);
  for (const char* reason : {"timeout", "backend_changed", "connect_failed"}) {
    EXPECT_EQ(summary["lost_by_reason"][reason], 0) << reason;
  }
  // Every lost connection came back, on b2 (b1 refuses new ones: retried, not counted lost).
  EXPECT_EQ(summary["reconnected"], on_b1);
  EXPECT_EQ(summary["final_backends"], json({{"b2", 20}}));
  // Unanswered: at most the message in flight on each connection at the end, and the last one
  // of each connection b1 closed.
  EXPECT_GT(summary["answered"].get<int>(), 1000);
  EXPECT_LE(summary["sent"].get<int>() - summary["answered"].get<int>(), 20 + on_b1);
  ASSERT_EQ(j["samples"].size(), 4u);
  EXPECT_EQ(j["samples"][0]["alive"], 20);
  EXPECT_EQ(j["samples"][0]["lost_total"], 0);
  EXPECT_EQ(j["samples"][1]["lost"], on_b1);  // b1 stopped in the second second
  EXPECT_EQ(j["samples"][3]["alive"], 20);
  EXPECT_EQ(j["samples"][3]["backends"], json({{"b2", 20}}));
  // Text summary and progress lines.
  EXPECT_NE(out.find("lost: " + std::to_string(on_b1) + " ("), std::string::npos);
  EXPECT_NE(out.find("by backend: b1=" + std::to_string(on_b1)), std::string::npos);
  EXPECT_NE(err.find("t=1s alive=20 lost=0(+0)"), std::string::npos);
  EXPECT_NE(err.find("t=4s alive=20"), std::string::npos);
  // The SVG chart was written with its three series.
  const std::string svg = read_file(svg_path);
  EXPECT_TRUE(svg.starts_with("<?xml")) << svg.substr(0, 100);
  EXPECT_TRUE(svg.ends_with("</svg>\n"));
  for (const char* series : {"alive", "lost (total)", "reconnected (total)"}) {
    EXPECT_NE(svg.find(std::string("data-name=\"") + series + "\""), std::string::npos) << series;
  }
}

TEST_F(TrafficLiveTest, CtrafficWithoutReconnectKeepsOnlyTheSurvivorsAndHonoursTheStopFile) {
  const std::string json_path = file("ct.json");
  const std::string stop_file = file("stop");
  ASSERT_OK_AND_TAKE(
      ctraffic, start_in_client({tool("rail-ctraffic"), "--target", kTarget, "--connections", "20",
                                 "--duration", "30s", "--sources", kSources, "--no-reconnect",
                                 "--stop-file", stop_file, "--json-out", json_path},
                                "ct"));
  std::this_thread::sleep_for(milliseconds(1000));
  servers_[1].signal(SIGTERM);
  std::this_thread::sleep_for(milliseconds(500));
  std::ofstream(stop_file) << "stop\n";
  auto code = ctraffic.wait(milliseconds(5000));  // far less than --duration 30s
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  json j = parse_json(read_file(json_path));
  SCOPED_TRACE(j.dump());
  EXPECT_LT(j["duration_s"].get<double>(), 5);
  EXPECT_EQ(j["interrupted"], true);
  const json& summary = j["summary"];
  const int on_b1 = summary["initial_backends"].value("b1", 0);
  const int on_b2 = summary["initial_backends"].value("b2", 0);
  EXPECT_EQ(on_b1 + on_b2, 20);
  EXPECT_EQ(summary["lost_total"], on_b2);
  EXPECT_EQ(summary["lost_by_backend"], json({{"b2", on_b2}}));
  EXPECT_EQ(summary["reconnected"], 0);
  EXPECT_EQ(summary["final_backends"], json({{"b1", on_b1}}));
  EXPECT_EQ(j["samples"].back()["alive"], on_b1);
}

TEST_F(TrafficLiveTest, CtrafficExitsOneWhenNothingAnswers) {
  ToolResult r = run({tool("rail-ctraffic"), "--target", "198.18.0.100:9", "--connections", "5",
                      "--duration", "1s"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("lost: 5"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("no connection to 198.18.0.100:9 was ever answered"), std::string::npos)
      << r.err;
}

TEST_F(TrafficLiveTest, TputMovesDataBothWays) {
  for (const char* direction : {"upload", "download"}) {
    ToolResult r = run({tool("rail-tput"), "--target", kTarget, "--direction", direction,
                        "--streams", "4", "--duration", "1s", "--sources", kSources, "--json"});
    SCOPED_TRACE(r.out + r.err);
    EXPECT_EQ(r.exit_code, 0);
    json j = parse_json(r.out);
    EXPECT_EQ(j["direction"], direction);
    EXPECT_EQ(j["streams"], 4);
    EXPECT_GT(j["bytes"].get<double>(), 1e6);
    EXPECT_GT(j["bits_per_s"].get<double>(), 8e6);
    EXPECT_NEAR(j["duration_s"].get<double>(), 1.0, 0.2);
    ASSERT_EQ(j["per_stream"].size(), 4u);
    for (const json& stream : j["per_stream"]) EXPECT_GT(stream["bytes"].get<double>(), 0);
    std::printf("rail-tput %s through the ECMP VIP: %.2f Gbit/s\n", direction,
                j["bits_per_s"].get<double>() / 1e9);
  }
}

}  // namespace
}  // namespace rail::traffic
