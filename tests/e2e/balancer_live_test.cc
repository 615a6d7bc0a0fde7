// Live balancer: client -> Rail (XDP, native) -> GRE -> backends (tc decap) over a bridged L2
// segment (single_node_topology.h), checked against the reference forwarder's choice for the
// same config.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/forwarder/forwarder.h"
#include "core/packet/builder.h"
#include "dataplane/libbpf_error.h"
#include "dataplane/xdp_data_plane.h"
#include "e2e_sockets.h"
#include "netns.h"
#include "single_node_topology.h"

namespace rail {
namespace {

using dataplane::XdpDataPlane;
using e2e::bound_socket;
using e2e::Netns;
using e2e::SingleNodeTopology;
using e2e::sockaddr_v4;
using e2e::wait_readable;

constexpr const char* kClientIp = SingleNodeTopology::kClientIp;
constexpr const char* kRailIp = SingleNodeTopology::kRailIp;
constexpr const char* kVip = SingleNodeTopology::kVip;
constexpr int kBackends = 3;
constexpr uint16_t kUdpPort = 5353;
constexpr uint16_t kTcpPort = 8080;
constexpr int kUdpFlows = 48;
constexpr uint16_t kFirstUdpSourcePort = 41000;
constexpr uint16_t kTcpSourcePort = 42000;

std::string backend_ip(int i) {
  return SingleNodeTopology::backend_ip(i);
}

IpAddress ip(const std::string& text) {
  return *IpAddress::parse(text);
}

class BalancerLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto topology = SingleNodeTopology::create({.backends = kBackends});
    ASSERT_TRUE(topology) << topology.error().describe();
    topology_ = std::move(*topology);

    config_ = make_config();
    ASSERT_TRUE(config_.validate()) << config_.validate().error().describe();
    auto plane = XdpDataPlane::load();
    ASSERT_TRUE(plane) << plane.error().describe();
    plane_ = std::move(*plane);
    Status applied = plane_->apply(config_);
    ASSERT_TRUE(applied) << applied.error().describe();
    Status attached = rail().run([&] { return plane_->attach("r0", dataplane::XdpMode::kNative); });
    ASSERT_TRUE(attached) << attached.error().describe();
    ASSERT_TRUE(reference_.apply(config_));
  }

  // Programs detach (in their namespaces) before the veths and namespaces go.
  void TearDown() override {
    plane_.reset();
    topology_.reset();
  }

  const Netns& client() const { return topology_->client(); }
  const Netns& rail() const { return topology_->rail(); }
  const Netns& backend(int i) const { return topology_->backend(i); }

  // VIP udp/5353 and tcp/8080, GRE to the three backends, next hops = their veth MACs.
  LbConfig make_config() const {
    LbConfig config;
    config.node.mac = *MacAddress::parse(topology_->rail_mac());
    config.node.outer_source_v4 = ip(kRailIp);
    for (auto [proto, port] : {std::pair{Protocol::kUdp, kUdpPort}, {Protocol::kTcp, kTcpPort}}) {
      Service s;
      s.vip = ip(kVip);
      s.protocol = proto;
      s.port = port;
      s.encap = Encap::kGre;
      s.table_size = 251;
      for (int i = 0; i < kBackends; ++i) {
        Backend be;
        be.address = ip(backend_ip(i));
        be.next_hop_mac = *MacAddress::parse(topology_->backend_mac(i));
        s.backends.push_back(be);
      }
      config.services.push_back(s);
    }
    return config;
  }

  // The backend index the reference forwarder sends client:sport -> VIP:dport to (-1: none).
  int expected_backend(Protocol proto, uint16_t sport, uint16_t dport) {
    packet::PacketBuilder b;
    b.eth(*MacAddress::parse(topology_->client_mac()), *MacAddress::parse(topology_->rail_mac()))
        .ipv4(ip(kClientIp), ip(kVip));
    if (proto == Protocol::kUdp) {
      b.udp(sport, dport).payload("x");
    } else {
      b.tcp(sport, dport).syn();
    }
    std::vector<uint8_t> out;
    Verdict v = reference_.process(b.build(), 0, out);
    if (v.action != RAIL_VERDICT_TX || out.size() < 34) return -1;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, out.data() + 14 + 16, text, sizeof(text));  // outer IPv4 destination
    for (int i = 0; i < kBackends; ++i)
      if (backend_ip(i) == text) return i;
    return -1;
  }

  std::unique_ptr<SingleNodeTopology> topology_;
  LbConfig config_;
  std::unique_ptr<XdpDataPlane> plane_;
  Forwarder reference_;
};

TEST_F(BalancerLiveTest, UdpFlowsReachTheBackendTheReferenceForwarderPicks) {
  std::vector<UniqueFd> services(kBackends);
  for (int i = 0; i < kBackends; ++i) {
    ASSERT_TRUE(backend(i).run([&]() -> Status {
      auto s = bound_socket(SOCK_DGRAM, kVip, kUdpPort);
      if (!s) return s.error();
      services[size_t(i)] = std::move(*s);
      return ok();
    }));
  }
  // One socket per flow (source port), all created in the client namespace.
  std::vector<UniqueFd> clients(kUdpFlows);
  ASSERT_TRUE(client().run([&]() -> Status {
    for (int f = 0; f < kUdpFlows; ++f) {
      auto s = bound_socket(SOCK_DGRAM, kClientIp, uint16_t(kFirstUdpSourcePort + f));
      if (!s) return s.error();
      clients[size_t(f)] = std::move(*s);
    }
    return ok();
  }));
  std::map<uint16_t, int> expected;
  std::vector<int> per_backend(kBackends, 0);
  for (int f = 0; f < kUdpFlows; ++f) {
    const uint16_t sport = uint16_t(kFirstUdpSourcePort + f);
    expected[sport] = expected_backend(Protocol::kUdp, sport, kUdpPort);
    ASSERT_GE(expected[sport], 0) << "the reference forwarder does not send port " << sport;
    ++per_backend[size_t(expected[sport])];
    const std::string msg = "flow " + std::to_string(sport);
    sockaddr_in to = sockaddr_v4(kVip, kUdpPort);
    ASSERT_EQ(sendto(clients[size_t(f)].get(), msg.data(), msg.size(), 0,
                     reinterpret_cast<sockaddr*>(&to), sizeof(to)),
              ssize_t(msg.size()));
  }
  // A config where one backend gets no flow would not test the spread.
  for (int i = 0; i < kBackends; ++i) EXPECT_GT(per_backend[size_t(i)], 0) << "backend " << i;

  std::map<uint16_t, int> arrived;  // source port -> backend that got it
  std::vector<int> fds;
  for (const UniqueFd& s : services) fds.push_back(s.get());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (int(arrived.size()) < kUdpFlows && std::chrono::steady_clock::now() < deadline) {
    const int i = wait_readable(fds, 200);
    if (i < 0) continue;
    char buf[256];
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    ssize_t n =
        recvfrom(fds[size_t(i)], buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
    ASSERT_GT(n, 0);
    const uint16_t sport = ntohs(from.sin_port);
    EXPECT_EQ(std::string(buf, size_t(n)), "flow " + std::to_string(sport));
    EXPECT_EQ(arrived.count(sport), 0u) << "port " << sport << " arrived twice";
    arrived[sport] = i;
  }
  EXPECT_EQ(arrived, expected);

  auto stats = plane_->stats();
  ASSERT_TRUE(stats) << stats.error().describe();
  EXPECT_EQ(stats->services[0].packets, uint64_t(kUdpFlows));
  EXPECT_EQ(stats->services[0].new_flows, uint64_t(kUdpFlows));
}

TEST_F(BalancerLiveTest, TcpConnectionThroughTheVipEchoesALine) {
  std::vector<UniqueFd> listeners(kBackends);
  for (int i = 0; i < kBackends; ++i) {
    ASSERT_TRUE(backend(i).run([&]() -> Status {
      auto s = bound_socket(SOCK_STREAM, kVip, kTcpPort);
      if (!s) return s.error();
      if (listen(s->get(), 4) != 0) return dataplane::errno_error("listen");
      listeners[size_t(i)] = std::move(*s);
      return ok();
    }));
  }
  UniqueFd conn;
  ASSERT_TRUE(client().run([&]() -> Status {
    auto s = bound_socket(SOCK_STREAM, kClientIp, kTcpSourcePort);
    if (!s) return s.error();
    conn = std::move(*s);
    return ok();
  }));
  // SYN via Rail to a backend, SYN-ACK from the VIP directly back, ACK via Rail again.
  sockaddr_in vip = sockaddr_v4(kVip, kTcpPort);
  ASSERT_EQ(connect(conn.get(), reinterpret_cast<sockaddr*>(&vip), sizeof(vip)), 0)
      << "connect: " << strerror(errno);
  const std::string line = "hello through rail\n";
  ASSERT_EQ(send(conn.get(), line.data(), line.size(), 0), ssize_t(line.size()));

  std::vector<int> fds;
  for (const UniqueFd& s : listeners) fds.push_back(s.get());
  const int chosen = wait_readable(fds, 3000);
  ASSERT_GE(chosen, 0) << "no backend accepted the connection";
  EXPECT_EQ(chosen, expected_backend(Protocol::kTcp, kTcpSourcePort, kTcpPort));
  UniqueFd accepted(accept(fds[size_t(chosen)], nullptr, nullptr));
  ASSERT_GE(accepted.get(), 0) << strerror(errno);
  timeval timeout{3, 0};
  setsockopt(accepted.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));

  std::string got;
  char buf[256];
  while (got.find('\n') == std::string::npos) {
    ssize_t n = recv(accepted.get(), buf, sizeof(buf), 0);
    ASSERT_GT(n, 0) << "backend read: " << strerror(errno);
    got.append(buf, size_t(n));
  }
  EXPECT_EQ(got, line);
  ASSERT_EQ(send(accepted.get(), got.data(), got.size(), 0), ssize_t(got.size()));  // DSR reply

  std::string echoed;
  while (echoed.size() < line.size()) {
    ssize_t n = recv(conn.get(), buf, sizeof(buf), 0);
    ASSERT_GT(n, 0) << "client read: " << strerror(errno);
    echoed.append(buf, size_t(n));
  }
  EXPECT_EQ(echoed, line);

  auto stats = plane_->stats();
  ASSERT_TRUE(stats) << stats.error().describe();
  EXPECT_GE(stats->services[1].packets, 3u);  // SYN, ACK, data (and the client's ACK of the echo)
  EXPECT_EQ(stats->services[1].new_flows, 1u);
}

}  // namespace
}  // namespace rail
