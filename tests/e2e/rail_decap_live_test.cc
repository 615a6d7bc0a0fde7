// Live rail-decap: the real binary in a backend namespace, GRE traffic from a router
// namespace (RouterGreEncap on its egress), real UDP sockets on the VIPs; SIGTERM/SIGINT exit 0
// and leave no tc filter / XDP program behind; usage and attach failures exit 2 and 1.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/libbpf_error.h"
#include "e2e_sockets.h"
#include "netns.h"
#include "router_encap/router_gre_encap.h"
#include "router_peer_topology.h"
#include "test_dir.h"
#include "tools/testbed/process.h"

namespace rail {
namespace {

using e2e::Netns;
using e2e::RouterPeerTopology;

const char* kRouter4 = RouterPeerTopology::kRouter4;
const char* kBackend4 = RouterPeerTopology::kPeer4;
const char* kRouter6 = RouterPeerTopology::kRouter6;
const char* kBackend6 = RouterPeerTopology::kPeer6;
const char* kVip4 = "198.18.100.1";
const char* kVip6 = "2001:db8:100::1";
constexpr uint16_t kPort = 5353;

// rail-decap as a child process (`ip netns exec NS rail-decap ...`, or directly when `ns` is
// empty), started by the testbed's Spawner (killed and reaped by the Process destructor;
// PDEATHSIG covers a test process that dies without destructors). stdout+stderr go to a log
// file in a per-test temp dir, read line by line as it grows.
class DecapProcess {
 public:
  Status start(const std::string& ns, std::vector<std::string> args) {
    if (dir_.path().empty()) return dataplane::errno_error("mkdtemp");
    log_ = dir_.path() + "/rail-decap.log";
    std::vector<std::string> all;
    if (!ns.empty()) all = {testbed::ip_binary(), "netns", "exec", ns};
    all.push_back(RAIL_DECAP_PATH);
    all.insert(all.end(), args.begin(), args.end());
    auto process = spawner_.spawn(all, log_);
    if (!process) return process.error();
    process_ = std::move(*process);
    return ok();
  }

  // Reads output until a line containing `needle` (returned) or `seconds` pass.
  std::optional<std::string> wait_line(const std::string& needle, double seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (true) {
      const std::string text = e2e::read_file(log_);
      for (size_t eol; (eol = text.find('\n', read_)) != std::string::npos;) {
        std::string line = text.substr(read_, eol - read_);
        read_ = eol + 1;
        lines_.push_back(line);
        if (line.find(needle) != std::string::npos) return line;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Waits for the exit; the exit code (128 + signal when killed), or -1 if still running after
  // `seconds`.
  int wait_exit(double seconds) {
    auto status = process_.wait(std::chrono::milliseconds(static_cast<int>(seconds * 1000)));
    return status ? *status : -1;
  }

  void signal(int sig) const { process_.signal(sig); }
  std::string output() const { return e2e::read_file(log_); }

 private:
  e2e::TempDir dir_{"rail-e2e-decap-"};
  testbed::Spawner spawner_;
  testbed::Process process_;  // declared after the spawner: killed before it stops
  std::string log_;
  size_t read_ = 0;  // bytes of the log already split into lines_
  std::vector<std::string> lines_;
};

// A UDP socket bound to a VIP (either family) with a 3 s receive timeout.
Result<UniqueFd> vip_socket(const char* vip) {
  const bool v6 = std::string(vip).find(':') != std::string::npos;
  if (!v6) return e2e::bound_socket(SOCK_DGRAM, vip, kPort);
  UniqueFd s(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return dataplane::errno_error("socket");
  timeval timeout{3, 0};
  setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(kPort);
  inet_pton(AF_INET6, vip, &sa.sin6_addr);
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    return dataplane::errno_error(std::string("bind ") + vip);
  }
  return s;
}

// router (rr0; routes to the VIPs via the backend, GRE encapsulator on egress) <->
// backend (rb0 = tunnel endpoint; VIPs on lo; rail-decap under test).
class RailDecapLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto topology = RouterPeerTopology::create({.peer_role = "backend", .peer_if = "rb0"});
    ASSERT_TRUE(topology) << topology.error().describe();
    topology_ = std::move(*topology);
    for (const std::string& cmd : {"ip addr add " + std::string(kVip4) + "/32 dev lo",
                                   "ip addr add " + std::string(kVip6) + "/128 dev lo",
                                   std::string("sysctl -qw net.ipv4.conf.all.rp_filter=0"),
                                   std::string("sysctl -qw net.ipv4.conf.rb0.rp_filter=0")}) {
      auto r = topology_->peer().exec(cmd);
      ASSERT_TRUE(r) << r.error().describe();
    }
  }

  void TearDown() override {
    decap_.reset();  // kills a rail-decap the test did not stop
    topology_.reset();
  }

  // Sends one datagram from the router to vip:kPort and expects the backend's VIP socket to
  // receive exactly it, from the router's address.
  void expect_delivered(const char* vip, const char* from, const std::string& payload) {
    UniqueFd service;
    ASSERT_TRUE(topology_->peer().run([&]() -> Status {
      auto s = vip_socket(vip);
      if (!s) return s.error();
      service = std::move(*s);
      return ok();
    }));
    Status sent = topology_->router().run([&]() -> Status {
      auto to = IpAddress::parse(vip);
      UniqueFd s(socket(to->is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      sockaddr_storage sa{};
      socklen_t len;
      if (to->is_v4()) {
        *reinterpret_cast<sockaddr_in*>(&sa) = e2e::sockaddr_v4(vip, kPort);
        len = sizeof(sockaddr_in);
      } else {
        auto* sa6 = reinterpret_cast<sockaddr_in6*>(&sa);
        sa6->sin6_family = AF_INET6;
        sa6->sin6_port = htons(kPort);
        inet_pton(AF_INET6, vip, &sa6->sin6_addr);
        len = sizeof(sockaddr_in6);
      }
      if (sendto(s.get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&sa),
                 len) < 0) {
        return dataplane::errno_error(std::string("sendto ") + vip);
      }
      return ok();
    });
    ASSERT_TRUE(sent) << sent.error().describe();
    char buf[2048];
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof(peer);
    ssize_t n =
        recvfrom(service.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer), &peer_len);
    ASSERT_GT(n, 0) << "nothing reached the VIP socket " << vip << " (errno " << errno << ")\n"
                    << decap_->output();
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), payload);
    char text[INET6_ADDRSTRLEN] = {};
    if (peer.ss_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, text, sizeof(text));
    } else {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, text, sizeof(text));
    }
    EXPECT_STREQ(text, from);
  }

  std::string backend_exec(const std::string& cmd) {
    auto r = topology_->peer().exec(cmd);
    EXPECT_TRUE(r) << r.error().describe();
    return r ? *r : "";
  }

  std::unique_ptr<RouterPeerTopology> topology_;
  std::optional<DecapProcess> decap_;
};

TEST_F(RailDecapLiveTest, TcModeDeliversGreToTheVipsAndSigtermDetaches) {
  decap_.emplace();
  ASSERT_TRUE(decap_->start(topology_->peer().name(),
                            {"--interface", "rb0", "--address", kBackend4, "--address", kBackend6,
                             "--stats-interval", "200ms"}));
  auto start = decap_->wait_line("event=start", 10);
  ASSERT_TRUE(start) << decap_->output();
  EXPECT_NE(start->find("mode=tc interfaces=rb0 addresses=198.18.0.2,2001:db8:e::2"),
            std::string::npos)
      << *start;
  EXPECT_NE(backend_exec("tc filter show dev rb0 ingress").find("bpf"), std::string::npos);

  expect_delivered(kVip4, kRouter4, "GRE over IPv4 to the VIP");
  expect_delivered(kVip6, kRouter6, "GRE over IPv6 to the VIP");
  auto stats = decap_->wait_line("decap_gre_packets=2 ", 3);
  ASSERT_TRUE(stats) << decap_->output();
  EXPECT_NE(stats->find("event=stats"), std::string::npos) << *stats;

  decap_->signal(SIGTERM);
  auto stop = decap_->wait_line("event=stop", 5);
  ASSERT_TRUE(stop) << decap_->output();
  EXPECT_NE(stop->find("signal=SIGTERM"), std::string::npos) << *stop;
  EXPECT_NE(stop->find("decap_gre_packets=2 "), std::string::npos) << *stop;
  EXPECT_NE(stop->find("drop_packets=0 "), std::string::npos) << *stop;
  EXPECT_EQ(decap_->wait_exit(5), 0);
  EXPECT_EQ(backend_exec("tc filter show dev rb0 ingress"), "");
}

TEST_F(RailDecapLiveTest, XdpGenericJsonModeAndSigint) {
  decap_.emplace();
  ASSERT_TRUE(
      decap_->start(topology_->peer().name(), {"--interface", "rb0", "--any-address", "--mode",
                                               "xdp-generic", "--json", "--stats-interval", "0"}));
  auto start = decap_->wait_line("\"event\":\"start\"", 10);
  ASSERT_TRUE(start) << decap_->output();
  EXPECT_NE(start->find("\"mode\":\"xdp-generic\""), std::string::npos) << *start;
  EXPECT_NE(start->find("\"addresses\":\"any\""), std::string::npos) << *start;
  EXPECT_NE(backend_exec("ip link show dev rb0").find("xdpgeneric"), std::string::npos);

  expect_delivered(kVip4, kRouter4, "GRE through XDP");
  decap_->signal(SIGINT);
  auto stop = decap_->wait_line("\"event\":\"stop\"", 5);
  ASSERT_TRUE(stop) << decap_->output();
  EXPECT_NE(stop->find("\"signal\":\"SIGINT\""), std::string::npos) << *stop;
  EXPECT_NE(stop->find("\"decap_gre_packets\":1,"), std::string::npos) << *stop;
  EXPECT_EQ(decap_->wait_exit(5), 0);
  EXPECT_EQ(backend_exec("ip link show dev rb0").find("xdp"), std::string::npos);
}

TEST_F(RailDecapLiveTest, FailuresExitOneOrTwoWithAMessage) {
  {  // usage: no address and no --any-address
    DecapProcess p;
    ASSERT_TRUE(p.start("", {"--interface", "rb0"}));
    EXPECT_EQ(p.wait_exit(10), 2);
    EXPECT_NE(p.output().find("error: give the tunnel endpoint addresses"), std::string::npos);
  }
  {  // usage: a bad value names the option
    DecapProcess p;
    ASSERT_TRUE(p.start("", {"--interface", "rb0", "--any-address", "--mode", "ebpf"}));
    EXPECT_EQ(p.wait_exit(10), 2);
    EXPECT_NE(p.output().find("--mode: 'ebpf'"), std::string::npos);
  }
  {  // attach failure: the interface does not exist in that namespace
    DecapProcess p;
    ASSERT_TRUE(p.start(topology_->peer().name(), {"--interface", "nosuch0", "--any-address"}));
    EXPECT_EQ(p.wait_exit(10), 1);
    EXPECT_NE(p.output().find("error: no interface named nosuch0"), std::string::npos);
  }
  {  // --check-only: loads (verifier) and exits 0 without attaching anything
    DecapProcess p;
    ASSERT_TRUE(p.start(topology_->peer().name(),
                        {"--interface", "rb0", "--address", kBackend4, "--check-only"}));
    EXPECT_EQ(p.wait_exit(10), 0);
    EXPECT_NE(p.output().find("event=check-ok"), std::string::npos) << p.output();
    EXPECT_EQ(backend_exec("tc filter show dev rb0 ingress"), "");
  }
}

}  // namespace
}  // namespace rail
