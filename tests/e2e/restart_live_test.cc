// Live graceful restart: a steady UDP stream through Rail while the XdpDataPlane that owns the
// attachment is destroyed and a new one adopts the pinned link, maps and ids (a raild restart).
// Every datagram must arrive, each flow at the backend it had before.
//
// Topology: single_node_topology.h (client, rail and three backends on one bridge, tc decap on
// the backends), GRE to the backends. The new config lists the backends in reverse and adds a
// fourth one that does not exist: a flow that moved would lose its datagrams.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/bpffs.h"
#include "dataplane/libbpf_error.h"
#include "dataplane/xdp_data_plane.h"
#include "e2e_sockets.h"
#include "netns.h"
#include "paced_udp_sender.h"
#include "single_node_topology.h"

namespace rail {
namespace {

using dataplane::XdpDataPlane;
using e2e::bound_socket;
using e2e::Netns;
using e2e::PacedUdpSender;
using e2e::SingleNodeTopology;
using e2e::sockaddr_v4;
using e2e::wait_readable;

constexpr const char* kClientIp = SingleNodeTopology::kClientIp;
constexpr const char* kRailIp = SingleNodeTopology::kRailIp;
constexpr const char* kVip = SingleNodeTopology::kVip;
constexpr int kBackends = 3;
constexpr uint16_t kUdpPort = 5353;
constexpr int kFlows = 8;
constexpr int kRate = 2000;  // datagrams per second, all flows together
constexpr int kSeconds = 3;
constexpr uint16_t kFirstSourcePort = 43000;

std::string backend_ip(int i) {
  return SingleNodeTopology::backend_ip(i);
}

IpAddress ip(const std::string& text) {
  return *IpAddress::parse(text);
}

class RestartLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto topology = SingleNodeTopology::create({.backends = kBackends});
    ASSERT_TRUE(topology) << topology.error().describe();
    topology_ = std::move(*topology);

    ASSERT_TRUE(dataplane::ensure_bpffs("/sys/fs/bpf"));
    ASSERT_EQ(mkdir(pin_dir_.c_str(), 0700), 0);
    options_.pin_dir = pin_dir_;
    options_.conn_capacity = 1 << 12;
    auto plane = XdpDataPlane::load(options_);
    ASSERT_TRUE(plane) << plane.error().describe();
    plane_ = std::move(*plane);
    ASSERT_TRUE(plane_->apply(make_config(false)));
    Status attached = rail().run([&] { return plane_->attach("r0", dataplane::XdpMode::kNative); });
    ASSERT_TRUE(attached) << attached.error().describe();
  }

  // The pinned link outlives plane_: detach it explicitly, then remove every pin.
  void TearDown() override {
    if (plane_) plane_->detach_all();
    plane_.reset();
    std::error_code ec;
    std::filesystem::remove_all(pin_dir_, ec);
    topology_.reset();
  }

  const Netns& client() const { return topology_->client(); }
  const Netns& rail() const { return topology_->rail(); }
  const Netns& backend(int i) const { return topology_->backend(i); }

  // VIP udp/5353, GRE to the backends. `upgraded`: backends reversed plus one that does not
  // exist (198.18.0.29), which takes part of the Maglev table.
  LbConfig make_config(bool upgraded) const {
    LbConfig config;
    config.node.mac = *MacAddress::parse(topology_->rail_mac());
    config.node.outer_source_v4 = ip(kRailIp);
    Service s;
    s.vip = ip(kVip);
    s.protocol = Protocol::kUdp;
    s.port = kUdpPort;
    s.encap = Encap::kGre;
    s.table_size = 251;
    for (int i = 0; i < kBackends; ++i) {
      Backend be;
      be.address = ip(backend_ip(i));
      be.next_hop_mac = *MacAddress::parse(topology_->backend_mac(i));
      s.backends.push_back(be);
    }
    if (upgraded) {
      std::reverse(s.backends.begin(), s.backends.end());
      Backend ghost;
      ghost.address = ip("198.18.0.29");
      ghost.next_hop_mac = *MacAddress::parse("02:00:00:00:00:29");
      s.backends.push_back(ghost);
    }
    config.services.push_back(s);
    return config;
  }

  // "raild stops, a new raild starts": the old object goes (its link stays pinned and keeps
  // forwarding), a new one loads from the same pins, applies, and adopts the link.
  Status restart() {
    plane_.reset();
    auto plane = XdpDataPlane::load(options_);
    if (!plane) return plane.error();
    RAIL_TRY((*plane)->apply(make_config(true)));
    RAIL_TRY(rail().run([&] { return (*plane)->attach("r0", dataplane::XdpMode::kNative); }));
    if (!(*plane)->attachments().front().adopted())
      return make_error(ErrorCode::kSystem, "the new plane did not adopt the pinned link");
    plane_ = std::move(*plane);
    return ok();
  }

  std::string pin_dir_ = "/sys/fs/bpf/rail-e2e-restart-" + std::to_string(getpid());
  dataplane::XdpOptions options_;
  std::unique_ptr<SingleNodeTopology> topology_;
  std::unique_ptr<XdpDataPlane> plane_;
};

TEST_F(RestartLiveTest, SteadyUdpStreamLosesNothingAcrossARestart) {
  std::vector<UniqueFd> sinks(kBackends);
  for (int i = 0; i < kBackends; ++i) {
    ASSERT_TRUE(backend(i).run([&]() -> Status {
      auto s = bound_socket(SOCK_DGRAM, kVip, kUdpPort);
      if (!s) return s.error();
      int buf = 4 << 20;
      setsockopt(s->get(), SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
      sinks[size_t(i)] = std::move(*s);
      return ok();
    }));
  }
  std::vector<UniqueFd> clients(kFlows);
  ASSERT_TRUE(client().run([&]() -> Status {
    for (int f = 0; f < kFlows; ++f) {
      auto s = bound_socket(SOCK_DGRAM, kClientIp, uint16_t(kFirstSourcePort + f));
      if (!s) return s.error();
      clients[size_t(f)] = std::move(*s);
    }
    return ok();
  }));

  // Receiver: (source port, backend) -> datagrams, until told to stop and the sockets are dry.
  std::atomic<bool> stop{false};
  std::map<std::pair<uint16_t, int>, int> received;
  std::thread receiver([&] {
    std::vector<int> fds;
    for (const UniqueFd& s : sinks) fds.push_back(s.get());
    while (true) {
      const int i = wait_readable(fds, 200);
      if (i < 0) {
        if (stop) return;
        continue;
      }
      char buf[64];
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      if (recvfrom(fds[size_t(i)], buf, sizeof(buf), MSG_DONTWAIT,
                   reinterpret_cast<sockaddr*>(&from), &len) > 0)
        ++received[{ntohs(from.sin_port), i}];
    }
  });

  // Sender: kRate datagrams/s round-robin over the flows, paced on absolute deadlines.
  PacedUdpSender sender(clients, sockaddr_v4(kVip, kUdpPort), kRate, kRate * kSeconds);

  std::this_thread::sleep_for(std::chrono::milliseconds(kSeconds * 1000 / 2));
  const auto t0 = std::chrono::steady_clock::now();
  Status restarted = restart();
  const auto restart_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  sender.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  receiver.join();
  ASSERT_TRUE(restarted) << restarted.error().describe();

  int got = 0;
  std::map<uint16_t, int> backends_of_flow;
  for (const auto& [key, n] : received) {
    got += n;
    ++backends_of_flow[key.first];
  }
  std::printf(
      "restart: %d sent (%d send errors), %d received, %d lost; restart took %lld us; "
      "%zu flows\n",
      sender.sent(), sender.send_errors(), got, sender.sent() - got,
      static_cast<long long>(restart_us), backends_of_flow.size());
  for (const auto& [key, n] : received)
    std::printf("restart:   flow %u -> backend %d: %d datagrams\n", key.first, key.second, n);
  EXPECT_EQ(sender.send_errors(), 0);
  EXPECT_EQ(got, sender.sent()) << "datagrams lost across the restart";
  EXPECT_EQ(backends_of_flow.size(), size_t(kFlows));
  for (const auto& [port, n] : backends_of_flow) EXPECT_EQ(n, 1) << "flow " << port << " moved";
  auto stats = plane_->stats();
  ASSERT_TRUE(stats) << stats.error().describe();
  // The slot and its counters were adopted: only the first datagram of each flow was new.
  EXPECT_EQ(stats->services[0].new_flows, uint64_t(kFlows)) << "a flow was balanced again";
}

}  // namespace
}  // namespace rail
