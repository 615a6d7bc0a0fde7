// Live raild restart: the real daemon binary balances a steady UDP stream; it is stopped with
// SIGTERM and a new raild is started with the same config while the stream runs. Every
// datagram of the established flows must arrive, each flow at the backend it had before
// (docs/raild.md "UPGRADES AND RESTARTS": the pinned XDP link keeps forwarding, the next raild
// adopts maps, ids and link; health checks restart from the last verdicts).
//
// Topology: single_node_topology.h (client, rail, three backends on one bridge, tc decap on
// the backends); each backend adds a UDP sink on the VIP and a TCP listener for health checks.
//
// Pins across two processes: raild runs under `ip netns exec`, which gives it a private mount
// namespace, so a bpffs that raild mounted itself would vanish with it. Instead the TEST mounts
// a bpffs at <tmp>/bpffs in its own mount namespace before starting raild (raild's
// ensure_bpffs then finds it already mounted). `ip netns exec` copies the test's mounts into
// raild's namespace, and the copy is the same bpffs instance, so both raild processes (and the
// test) see the same pins, which survive the first raild's exit. We keep `ip netns exec` rather
// than fork + setns(CLONE_NEWNET) because it also remounts /sys for the rail namespace, where
// raild reads r0's MAC (node.mac: auto). The test detaches (removes the pins) and unmounts.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/bpffs.h"
#include "dataplane/libbpf_error.h"
#include "e2e_sockets.h"
#include "netns.h"
#include "paced_udp_sender.h"
#include "raild_api.h"
#include "raild_process.h"
#include "single_node_topology.h"
#include "test_dir.h"

namespace rail {
namespace {

using e2e::bound_socket;
using e2e::Clock;
using e2e::Netns;
using e2e::PacedUdpSender;
using e2e::RaildProcess;
using e2e::read_file;
using e2e::SingleNodeTopology;
using e2e::sockaddr_v4;
using e2e::TempDir;
using e2e::wait_until;
using json = nlohmann::json;

constexpr const char* kClientIp = SingleNodeTopology::kClientIp;
constexpr const char* kRailIp = SingleNodeTopology::kRailIp;
constexpr const char* kVip = SingleNodeTopology::kVip;
constexpr int kBackends = 3;
constexpr uint16_t kUdpPort = 5353;
constexpr uint16_t kCheckPort = 8080;
constexpr uint16_t kApiPort = 9181;  // in the rail namespace's own loopback: never taken
constexpr int kFlows = 8;
constexpr int kRate = 2000;  // datagrams per second, all flows together
constexpr uint16_t kFirstSourcePort = 43000;
constexpr auto kPoll = std::chrono::milliseconds(10);  // how often readiness is polled

// Backends are numbered 1..3 in raild's config (b1..b3).
std::string backend_ip(int n) {
  return SingleNodeTopology::backend_ip(n - 1);
}
std::string backend_name(int n) {
  return "b" + std::to_string(n);
}

class RaildRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp: " << strerror(errno);
    auto topology = SingleNodeTopology::create({.backends = kBackends});
    ASSERT_TRUE(topology) << topology.error().describe();
    topology_ = std::move(*topology);
    // Per backend: a UDP sink on VIP:5353 and a TCP listener for the health checks.
    for (int n = 1; n <= kBackends; ++n) {
      Status sockets = backend(n).run([&]() -> Status {
        auto sink = bound_socket(SOCK_DGRAM, kVip, kUdpPort);
        if (!sink) return sink.error();
        int buf = 4 << 20;
        setsockopt(sink->get(), SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
        auto listener = bound_socket(SOCK_STREAM, "0.0.0.0", kCheckPort);
        if (!listener) return listener.error();
        if (listen(listener->get(), 64) != 0) return dataplane::errno_error("listen");
        sinks_.push_back(std::move(*sink));
        listeners_.push_back(std::move(*listener));
        return ok();
      });
      ASSERT_TRUE(sockets) << sockets.error().describe();
    }
    receiver_ = std::thread([this] { receive(); });

    // The bpffs both raild processes share (see the top of the file).
    ASSERT_TRUE(dataplane::ensure_bpffs(dir_.path() + "/bpffs"));
    ASSERT_EQ(mkdir((dir_.path() + "/state").c_str(), 0700), 0);
    config_path_ = dir_.path() + "/rail.yaml";
    e2e::write_file(config_path_, config_text());
  }

  // raild first, then pins and mount (TempDir), receiver, sockets, the topology.
  void TearDown() override {
    raild_.reset();
    stop_receiver_ = true;
    if (receiver_.joinable()) receiver_.join();
    remove_test_dir_pins();
    sinks_.clear();
    listeners_.clear();
    topology_.reset();
  }

  void remove_test_dir_pins() {
    std::error_code ec;
    std::filesystem::remove_all(dir_.path() + "/bpffs/rail", ec);
  }

  std::string config_text() const {
    std::string text = "# raild_restart_test: written by the test\n";
    text += "node:\n  interfaces: [r0]\n  xdp_mode: native\n";
    text += "  outer_source_v4: " + std::string(kRailIp) + "\n";
    text += "  api:\n    listen: 127.0.0.1:" + std::to_string(kApiPort) + "\n";
    text += "  bpffs_dir: " + dir_.path() + "/bpffs/rail\n";
    text += "  state_file: " + dir_.path() + "/state/running.yaml\n";
    text += "pools:\n  - name: web\n    backends:\n";
    for (int n = 1; n <= kBackends; ++n)
      text += "      - { address: " + backend_ip(n) + ", name: " + backend_name(n) + " }\n";
    text += "    check:\n      type: tcp\n      port: " + std::to_string(kCheckPort) + "\n";
    text += "      interval: 200ms\n      timeout: 200ms\n      rise: 2\n      fall: 2\n";
    text += "vips:\n  - name: dns\n    address: " + std::string(kVip) + "\n";
    text += "    protocol: udp\n    port: " + std::to_string(kUdpPort) + "\n";
    text += "    table_size: 251\n    pool: web\n";
    return text;
  }

  const Netns& client() const { return topology_->client(); }
  const Netns& rail() const { return topology_->rail(); }
  const Netns& backend(int n) const { return topology_->backend(n - 1); }

  // Counts datagrams per (source port, backend) and accepts+closes health-check connections,
  // until told to stop and the sinks are dry.
  void receive() {
    std::vector<pollfd> p;
    for (const UniqueFd& s : sinks_) p.push_back(pollfd{s.get(), POLLIN, 0});
    for (const UniqueFd& l : listeners_) p.push_back(pollfd{l.get(), POLLIN, 0});
    for (;;) {
      for (auto& x : p) x.revents = 0;
      const int ready = poll(p.data(), p.size(), 200);
      if (ready <= 0) {
        if (stop_receiver_) return;
        continue;
      }
      for (size_t i = 0; i < p.size(); ++i) {
        if (!(p[i].revents & POLLIN)) continue;
        if (i >= sinks_.size()) {
          UniqueFd conn(accept4(p[i].fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
          continue;
        }
        char buf[64];
        sockaddr_in from{};
        socklen_t len = sizeof(from);
        while (recvfrom(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from),
                        &len) > 0) {
          std::lock_guard<std::mutex> lock(mu_);
          ++received_[{ntohs(from.sin_port), int(i) + 1}];
          len = sizeof(from);
        }
      }
    }
  }

  Status start_raild(const std::string& log) {
    raild_ = std::make_unique<RaildProcess>();
    return raild_->start(rail().name(), config_path_, log);
  }

  // GET `path` from raild's API in the rail namespace: status (0 if unreachable) and body.
  std::pair<int, std::string> http_get(const std::string& path) {
    e2e::HttpResponse r = e2e::http_request(rail(), kApiPort, "GET", path);
    return {r.status, r.body};
  }

  // Backend name -> state ("up", "down", ...) from GET /v1/vips/dns.
  std::map<std::string, std::string> backend_states() {
    std::map<std::string, std::string> out;
    auto [status, body] = http_get("/v1/vips/dns");
    if (status != 200) return out;
    json vip = json::parse(body, nullptr, false);
    if (vip.is_discarded() || !vip.contains("backends")) return out;
    for (const json& b : vip["backends"]) out[b.value("name", "")] = b.value("state", "");
    return out;
  }

  bool all_up() {
    auto states = backend_states();
    for (int n = 1; n <= kBackends; ++n)
      if (states[backend_name(n)] != "up") return false;
    return true;
  }

  std::string describe_states() {
    std::string out;
    for (const auto& [name, state] : backend_states()) out += name + "=" + state + " ";
    return out;
  }

  TempDir dir_{"rail-e2e-raildrestart-"};
  std::unique_ptr<SingleNodeTopology> topology_;
  std::vector<UniqueFd> sinks_, listeners_;  // [n - 1] is backend n
  std::thread receiver_;
  std::atomic<bool> stop_receiver_{false};
  std::mutex mu_;
  std::map<std::pair<uint16_t, int>, int> received_;  // (source port, backend n) -> datagrams
  std::unique_ptr<RaildProcess> raild_;
  std::string config_path_;
};

TEST_F(RaildRestartTest, SteadyUdpStreamLosesNothingAcrossARaildRestart) {
  const std::string log1 = dir_.path() + "/raild1.log", log2 = dir_.path() + "/raild2.log";
  auto logs = [&] {
    return "\n--- " + log1 + ":\n" + read_file(log1) + "--- " + log2 + ":\n" + read_file(log2);
  };
  ASSERT_TRUE(start_raild(log1));
  auto ready =
      wait_until([&] { return !raild_->running() || http_get("/readyz").first == 200; }, 10, kPoll);
  ASSERT_TRUE(ready && raild_->running()) << logs();
  ASSERT_TRUE(wait_until([&] { return all_up(); }, 5, kPoll)) << describe_states() << logs();

  std::vector<UniqueFd> clients(kFlows);
  ASSERT_TRUE(client().run([&]() -> Status {
    for (int f = 0; f < kFlows; ++f) {
      auto s = bound_socket(SOCK_DGRAM, kClientIp, uint16_t(kFirstSourcePort + f));
      if (!s) return s.error();
      clients[size_t(f)] = std::move(*s);
    }
    return ok();
  }));

  // Sender: kRate datagrams/s round-robin over the flows on absolute deadlines, until stopped.
  PacedUdpSender sender(clients, sockaddr_v4(kVip, kUdpPort), kRate, kRate * 20);

  // ~1 s of traffic, then the restart: SIGTERM, exit, a new raild on the same config and pins.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int sent_before = sender.sent();
  const auto t_term = Clock::now();
  ASSERT_TRUE(raild_->terminate(5)) << "raild did not exit within 5 s of SIGTERM" << logs();
  const auto t_exit = Clock::now();
  EXPECT_EQ(raild_->exit_status(), 0) << "status " << raild_->exit_status() << logs();
  const int sent_at_exit = sender.sent();
  // No raild at all for a while: only the pinned link forwards (nothing may be lost here).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(start_raild(log2));
  auto ready2 =
      wait_until([&] { return !raild_->running() || http_get("/readyz").first == 200; }, 10, kPoll);
  ASSERT_TRUE(ready2 && raild_->running()) << logs();
  const auto t_ready = Clock::now();
  const int sent_in_gap = sender.sent() - sent_at_exit;
  const std::string states_at_ready = describe_states();
  // ~1 s more of traffic through the new raild (its health checks run meanwhile).
  std::this_thread::sleep_for(std::chrono::seconds(1));
  sender.stop();
  const std::string states_after = describe_states();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // in-flight datagrams land

  std::map<std::pair<uint16_t, int>, int> received;
  {
    std::lock_guard<std::mutex> lock(mu_);
    received = received_;
  }
  int got = 0;
  std::map<uint16_t, int> backends_of_flow;
  for (const auto& [key, n] : received) {
    got += n;
    ++backends_of_flow[key.first];
  }
  const double stop_s = std::chrono::duration<double>(t_exit - t_term).count();
  const double gap_s = std::chrono::duration<double>(t_ready - t_exit).count();
  std::printf(
      "raild restart: %d sent (%d before SIGTERM, %d send errors), %d received, %d lost; "
      "SIGTERM->exit %.3f s, restart gap (old exit -> new /readyz, incl. 0.3 s with no raild) "
      "%.3f s, %d datagrams sent in the gap; %zu flows\n",
      sender.sent(), sent_before, sender.send_errors(), got, sender.sent() - got, stop_s, gap_s,
      sent_in_gap, backends_of_flow.size());
  std::printf("raild restart: backends at new /readyz: %s; 1 s later: %s\n",
              states_at_ready.c_str(), states_after.c_str());
  for (const auto& [key, n] : received)
    std::printf("raild restart:   flow %u -> b%d: %d datagrams\n", key.first, key.second, n);

  const std::string log_new = read_file(log2);
  EXPECT_NE(log_new.find("adopted=true"), std::string::npos) << logs();
  EXPECT_EQ(sender.send_errors(), 0);
  EXPECT_EQ(got, sender.sent()) << "datagrams lost across the raild restart" << logs();
  EXPECT_EQ(backends_of_flow.size(), size_t(kFlows));
  for (const auto& [port, n] : backends_of_flow) EXPECT_EQ(n, 1) << "flow " << port << " moved";
  EXPECT_TRUE(all_up()) << describe_states() << logs();
}

}  // namespace
}  // namespace rail
