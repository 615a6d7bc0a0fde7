// Live graceful restart: a steady UDP stream through Rail while the XdpDataPlane that owns the
// attachment is destroyed and a new one adopts the pinned link, maps and ids (a raild restart).
// Every datagram must arrive, each flow at the backend it had before.
//
// Topology as balancer_live_test.cc: client, rail and three backends on one bridge, GRE to the
// backends, tc decap there. The new config lists the backends in reverse and adds a fourth one
// that does not exist: a flow that moved would lose its datagrams.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
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
constexpr int kFlows = 8;
constexpr int kRate = 2000;  // datagrams per second, all flows together
constexpr int kSeconds = 3;
constexpr uint16_t kFirstSourcePort = 43000;

std::string backend_ip(int i) {
  return "198.18.0." + std::to_string(21 + i);
}

IpAddress ip(const std::string& text) {
  return *IpAddress::parse(text);
}

class RestartLiveTest : public ::testing::Test {
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

  // VIP udp/5353, GRE to the backends. `upgraded`: backends reversed plus one that does not
  // exist (198.18.0.29), which takes part of the Maglev table.
  LbConfig make_config(bool upgraded) const {
    LbConfig config;
    config.node.mac = *MacAddress::parse(rail_mac_);
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
      be.next_hop_mac = *MacAddress::parse(backend_macs_[size_t(i)]);
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
  std::vector<Netns> namespaces_;  // switch, client, rail, b0..b2
  std::vector<VethPair> veths_;
  std::string client_mac_, rail_mac_;
  std::vector<std::string> backend_macs_;
  std::optional<dataplane::BpfSkeleton<trivial_bpf_traits>> trivial_;
  std::optional<dataplane::XdpAttachment> peer_pass_;
  std::vector<DecapProgram> decaps_;
  std::unique_ptr<XdpDataPlane> plane_;
};

TEST_F(RestartLiveTest, SteadyUdpStreamLosesNothingAcrossARestart) {
  std::vector<Fd> sinks(kBackends);
  for (int i = 0; i < kBackends; ++i) {
    ASSERT_TRUE(backend(i).run([&]() -> Status {
      auto s = bound_socket(SOCK_DGRAM, kVip, kUdpPort);
      if (!s) return s.error();
      int buf = 4 << 20;
      setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
      sinks[size_t(i)] = std::move(*s);
      return ok();
    }));
  }
  std::vector<Fd> clients(kFlows);
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
    for (const Fd& s : sinks) fds.push_back(s.fd);
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
  const int total = kRate * kSeconds;
  std::atomic<int> sent{0}, send_errors{0};
  std::thread sender([&] {
    const sockaddr_in to = sockaddr_v4(kVip, kUdpPort);
    timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (int n = 0; n < total; ++n) {
      next.tv_nsec += 1'000'000'000 / kRate;
      if (next.tv_nsec >= 1'000'000'000) {
        next.tv_nsec -= 1'000'000'000;
        ++next.tv_sec;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
      const std::string msg = std::to_string(n);
      if (sendto(clients[size_t(n % kFlows)].fd, msg.data(), msg.size(), 0,
                 reinterpret_cast<const sockaddr*>(&to), sizeof(to)) == ssize_t(msg.size()))
        ++sent;
      else
        ++send_errors;
    }
  });

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
      sent.load(), send_errors.load(), got, sent.load() - got, static_cast<long long>(restart_us),
      backends_of_flow.size());
  for (const auto& [key, n] : received)
    std::printf("restart:   flow %u -> backend %d: %d datagrams\n", key.first, key.second, n);
  EXPECT_EQ(send_errors.load(), 0);
  EXPECT_EQ(got, sent.load()) << "datagrams lost across the restart";
  EXPECT_EQ(backends_of_flow.size(), size_t(kFlows));
  for (const auto& [port, n] : backends_of_flow) EXPECT_EQ(n, 1) << "flow " << port << " moved";
  auto stats = plane_->stats();
  ASSERT_TRUE(stats) << stats.error().describe();
  // The slot and its counters were adopted: only the first datagram of each flow was new.
  EXPECT_EQ(stats->services[0].new_flows, uint64_t(kFlows)) << "a flow was balanced again";
}

}  // namespace
}  // namespace rail
