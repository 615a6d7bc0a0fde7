// Live balancer: client -> Rail (XDP, native) -> GRE -> backends (tc decap) over a bridged L2
// segment, checked against the reference forwarder's choice for the same config.
//
//   client ns  c0 ─┐
//   rail ns    r0 ─┼─ switch ns: br0 (pc, pr, pb1..pb3)   pr runs XDP_PASS so r0's XDP_TX works
//   backend ns b0 ─┘ (x3: VIP on lo, DecapProgram on tc ingress, replies go direct: DSR)
//
// Offloads are off on every veth (VethPair), so the client's kernel writes complete checksums
// and the backends' stacks accept the decapsulated packets as they are (docs/decap.md).
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
#include "dataplane/decap_program.h"
#include "dataplane/libbpf_error.h"
#include "dataplane/skeleton.h"
#include "dataplane/xdp_data_plane.h"
#include "e2e_sockets.h"
#include "netns.h"
#include "trivial.skel.h"

namespace rail {
namespace {

RAIL_BPF_SKELETON_TRAITS(trivial_bpf);

using dataplane::DecapProgram;
using dataplane::XdpDataPlane;
using e2e::bound_socket;
using e2e::Fd;
using e2e::Netns;
using e2e::sockaddr_v4;
using e2e::VethPair;
using e2e::wait_readable;

constexpr const char* kClientIp = "198.18.0.10";
constexpr const char* kRailIp = "198.18.0.1";
constexpr const char* kVip = "198.18.100.1";
constexpr int kBackends = 3;
constexpr uint16_t kUdpPort = 5353;
constexpr uint16_t kTcpPort = 8080;
constexpr int kUdpFlows = 48;
constexpr uint16_t kFirstUdpSourcePort = 41000;
constexpr uint16_t kTcpSourcePort = 42000;

std::string backend_ip(int i) {
  return "198.18.0." + std::to_string(21 + i);
}

IpAddress ip(const std::string& text) {
  return *IpAddress::parse(text);
}

class BalancerLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* role : {"switch", "client", "rail", "b0", "b1", "b2"}) {
      auto ns = Netns::create(role);
      ASSERT_TRUE(ns) << ns.error().describe();
      namespaces_.push_back(std::move(*ns));
    }
    // One L2 segment: every node's veth peer is a port of br0 in the switch namespace.
    const std::vector<std::pair<const char*, const char*>> links = {
        {"c0", "pc"}, {"r0", "pr"}, {"b0", "pb0"}, {"b0", "pb1"}, {"b0", "pb2"}};
    for (size_t i = 0; i < links.size(); ++i) {
      auto veth = VethPair::create(namespaces_[i + 1], links[i].first, sw(), links[i].second);
      ASSERT_TRUE(veth) << veth.error().describe();
      veths_.push_back(std::move(*veth));
    }
    exec(sw(), "ip link add br0 type bridge");
    exec(sw(), "ip link set br0 up");
    for (const auto& [node_if, port] : links)
      exec(sw(), std::string("ip link set ") + port + " master br0");

    exec(client(), std::string("ip addr add ") + kClientIp + "/24 dev c0");
    exec(rail(), std::string("ip addr add ") + kRailIp + "/24 dev r0");
    client_mac_ = mac_of(client(), "c0");
    rail_mac_ = mac_of(rail(), "r0");
    // The client reaches the VIP through the Rail node (static neighbour: no ARP race).
    exec(client(), std::string("ip route add ") + kVip + "/32 via " + kRailIp);
    exec(client(), std::string("ip neigh replace ") + kRailIp + " lladdr " + rail_mac_ +
                       " dev c0 nud permanent");
    for (int i = 0; i < kBackends; ++i) {
      const Netns& b = backend(i);
      exec(b, "ip addr add " + backend_ip(i) + "/24 dev b0");
      exec(b, std::string("ip addr add ") + kVip + "/32 dev lo");
      // DSR backend settings: never answer ARP for the VIP, never announce it; rp_filter off
      // for decapsulated packets (docs/decap.md). Replies go straight to the client.
      for (const char* sysctl :
           {"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.b0.rp_filter=0",
            "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"}) {
        exec(b, std::string("sysctl -qw ") + sysctl);
      }
      exec(b, std::string("ip neigh replace ") + kClientIp + " lladdr " + client_mac_ +
                  " dev b0 nud permanent");
      backend_macs_.push_back(mac_of(b, "b0"));
    }
    if (HasFatalFailure()) return;

    // XDP_TX out of r0 is delivered only if its peer (pr) runs an XDP program too.
    auto trivial = dataplane::BpfSkeleton<trivial_bpf_traits>::open();
    ASSERT_TRUE(trivial) << trivial.error().describe();
    trivial_.emplace(std::move(*trivial));
    Status loaded = trivial_->load();
    ASSERT_TRUE(loaded) << loaded.error().describe();
    Status peer = sw().run([&]() -> Status {
      auto a = dataplane::XdpAttachment::attach("pr", bpf_program__fd((*trivial_)->progs.xdp_pass),
                                                dataplane::XdpMode::kNative);
      if (!a) return a.error();
      peer_pass_.emplace(std::move(*a));
      return ok();
    });
    ASSERT_TRUE(peer) << peer.error().describe();

    for (int i = 0; i < kBackends; ++i) {
      auto program = DecapProgram::load();
      ASSERT_TRUE(program) << program.error().describe();
      ASSERT_TRUE(program->add_address(ip(backend_ip(i))));
      decaps_.push_back(std::move(*program));
      Status attached = backend(i).run([&] { return decaps_.back().attach_tc("b0"); });
      ASSERT_TRUE(attached) << attached.error().describe();
    }

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
    decaps_.clear();
    peer_pass_.reset();
    trivial_.reset();
    veths_.clear();
    namespaces_.clear();
  }

  const Netns& sw() const { return namespaces_[0]; }
  const Netns& client() const { return namespaces_[1]; }
  const Netns& rail() const { return namespaces_[2]; }
  const Netns& backend(int i) const { return namespaces_[3 + size_t(i)]; }

  void exec(const Netns& ns, const std::string& command) {
    auto r = ns.exec(command);
    ASSERT_TRUE(r) << r.error().describe();
  }

  std::string mac_of(const Netns& ns, const std::string& ifname) {
    auto r = ns.exec("cat /sys/class/net/" + ifname + "/address");  // netns exec remounts /sys
    EXPECT_TRUE(r) << r.error().describe();
    if (!r) return "";
    std::string text = *r;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
  }

  // VIP udp/5353 and tcp/8080, GRE to the three backends, next hops = their veth MACs.
  LbConfig make_config() const {
    LbConfig config;
    config.node.mac = *MacAddress::parse(rail_mac_);
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
        be.next_hop_mac = *MacAddress::parse(backend_macs_[size_t(i)]);
        s.backends.push_back(be);
      }
      config.services.push_back(s);
    }
    return config;
  }

  // The backend index the reference forwarder sends client:sport -> VIP:dport to (-1: none).
  int expected_backend(Protocol proto, uint16_t sport, uint16_t dport) {
    packet::PacketBuilder b;
    b.eth(*MacAddress::parse(client_mac_), *MacAddress::parse(rail_mac_))
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

  std::vector<Netns> namespaces_;  // switch, client, rail, b0..b2
  std::vector<VethPair> veths_;
  std::string client_mac_, rail_mac_;
  std::vector<std::string> backend_macs_;
  std::optional<dataplane::BpfSkeleton<trivial_bpf_traits>> trivial_;
  std::optional<dataplane::XdpAttachment> peer_pass_;
  std::vector<DecapProgram> decaps_;
  LbConfig config_;
  std::unique_ptr<XdpDataPlane> plane_;
  Forwarder reference_;
};

TEST_F(BalancerLiveTest, UdpFlowsReachTheBackendTheReferenceForwarderPicks) {
  std::vector<Fd> services(kBackends);
  for (int i = 0; i < kBackends; ++i) {
    ASSERT_TRUE(backend(i).run([&]() -> Status {
      auto s = bound_socket(SOCK_DGRAM, kVip, kUdpPort);
      if (!s) return s.error();
      services[size_t(i)] = std::move(*s);
      return ok();
    }));
  }
  // One socket per flow (source port), all created in the client namespace.
  std::vector<Fd> clients(kUdpFlows);
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
    ASSERT_EQ(sendto(clients[size_t(f)].fd, msg.data(), msg.size(), 0,
                     reinterpret_cast<sockaddr*>(&to), sizeof(to)),
              ssize_t(msg.size()));
  }
  // A config where one backend gets no flow would not test the spread.
  for (int i = 0; i < kBackends; ++i) EXPECT_GT(per_backend[size_t(i)], 0) << "backend " << i;

  std::map<uint16_t, int> arrived;  // source port -> backend that got it
  std::vector<int> fds;
  for (const Fd& s : services) fds.push_back(s.fd);
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
  std::vector<Fd> listeners(kBackends);
  for (int i = 0; i < kBackends; ++i) {
    ASSERT_TRUE(backend(i).run([&]() -> Status {
      auto s = bound_socket(SOCK_STREAM, kVip, kTcpPort);
      if (!s) return s.error();
      if (listen(s->fd, 4) != 0) return dataplane::errno_error("listen");
      listeners[size_t(i)] = std::move(*s);
      return ok();
    }));
  }
  Fd conn;
  ASSERT_TRUE(client().run([&]() -> Status {
    auto s = bound_socket(SOCK_STREAM, kClientIp, kTcpSourcePort);
    if (!s) return s.error();
    conn = std::move(*s);
    return ok();
  }));
  // SYN via Rail to a backend, SYN-ACK from the VIP directly back, ACK via Rail again.
  sockaddr_in vip = sockaddr_v4(kVip, kTcpPort);
  ASSERT_EQ(connect(conn.fd, reinterpret_cast<sockaddr*>(&vip), sizeof(vip)), 0)
      << "connect: " << strerror(errno);
  const std::string line = "hello through rail\n";
  ASSERT_EQ(send(conn.fd, line.data(), line.size(), 0), ssize_t(line.size()));

  std::vector<int> fds;
  for (const Fd& s : listeners) fds.push_back(s.fd);
  const int chosen = wait_readable(fds, 3000);
  ASSERT_GE(chosen, 0) << "no backend accepted the connection";
  EXPECT_EQ(chosen, expected_backend(Protocol::kTcp, kTcpSourcePort, kTcpPort));
  Fd accepted(accept(fds[size_t(chosen)], nullptr, nullptr));
  ASSERT_GE(accepted.fd, 0) << strerror(errno);
  timeval timeout{3, 0};
  setsockopt(accepted.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));

  std::string got;
  char buf[256];
  while (got.find('\n') == std::string::npos) {
    ssize_t n = recv(accepted.fd, buf, sizeof(buf), 0);
    ASSERT_GT(n, 0) << "backend read: " << strerror(errno);
    got.append(buf, size_t(n));
  }
  EXPECT_EQ(got, line);
  ASSERT_EQ(send(accepted.fd, got.data(), got.size(), 0), ssize_t(got.size()));  // DSR reply

  std::string echoed;
  while (echoed.size() < line.size()) {
    ssize_t n = recv(conn.fd, buf, sizeof(buf), 0);
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
