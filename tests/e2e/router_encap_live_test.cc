// Live router encapsulation: RouterGreEncap on tc egress of a "router" namespace's veth; a
// raw AF_PACKET socket on the far side ("node") sees real UDP datagrams to a VIP arrive
// GRE-encapsulated with the right outer addresses, and other traffic arrive plain.
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/packet/checksum.h"
#include "dataplane/libbpf_error.h"
#include "e2e_sockets.h"
#include "netns.h"
#include "router_encap/router_gre_encap.h"
#include "router_peer_topology.h"

namespace rail {
namespace {

using e2e::Netns;
using e2e::RouterPeerTopology;

const char* kRouter4 = RouterPeerTopology::kRouter4;
const char* kNode4 = RouterPeerTopology::kPeer4;
const char* kRouter6 = RouterPeerTopology::kRouter6;
const char* kNode6 = RouterPeerTopology::kPeer6;
const char* kVip4 = "198.18.100.1";
const char* kVip6 = "2001:db8:100::1";

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

using Frame = std::vector<uint8_t>;

class RouterEncapLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto topology = RouterPeerTopology::create({.peer_role = "node", .peer_if = "rn0"});
    ASSERT_TRUE(topology) << topology.error().describe();
    topology_ = std::move(*topology);

    // Every frame arriving on the node's interface, from before the first datagram is sent.
    Status opened = topology_->peer().run([&]() -> Status {
      UniqueFd s(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
      if (!s.valid()) return dataplane::errno_error("AF_PACKET socket");
      sockaddr_ll sll{};
      sll.sll_family = AF_PACKET;
      sll.sll_protocol = htons(ETH_P_ALL);
      sll.sll_ifindex = static_cast<int>(if_nametoindex("rn0"));
      if (bind(s.get(), reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
        return dataplane::errno_error("bind AF_PACKET to rn0");
      }
      capture_ = std::move(s);
      return ok();
    });
    ASSERT_TRUE(opened) << opened.error().describe();
  }

  void TearDown() override {
    capture_ = UniqueFd();
    topology_.reset();  // the encapsulator detaches in the router namespace first
  }

  // One UDP datagram from the router namespace's own stack.
  void send_udp(int family, const char* dst, uint16_t port, const std::string& payload) {
    Status sent = topology_->router().run([&]() -> Status {
      UniqueFd s(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      if (!s.valid()) return dataplane::errno_error("socket");
      sockaddr_storage to{};
      socklen_t len;
      if (family == AF_INET) {
        auto* sa = reinterpret_cast<sockaddr_in*>(&to);
        sa->sin_family = AF_INET;
        sa->sin_port = htons(port);
        inet_pton(AF_INET, dst, &sa->sin_addr);
        len = sizeof(*sa);
      } else {
        auto* sa = reinterpret_cast<sockaddr_in6*>(&to);
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons(port);
        inet_pton(AF_INET6, dst, &sa->sin6_addr);
        len = sizeof(*sa);
      }
      if (sendto(s.get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 len) < 0) {
        return dataplane::errno_error(std::string("sendto ") + dst);
      }
      return ok();
    });
    ASSERT_TRUE(sent) << sent.error().describe();
  }

  // The first captured frame (within 3 s) whose bytes contain `payload`.
  std::optional<Frame> capture_with(const std::string& payload) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      if (e2e::wait_readable({capture_.get()}, 200) < 0) continue;
      Frame frame(4096);
      ssize_t n = recv(capture_.get(), frame.data(), frame.size(), 0);
      if (n <= 0) continue;
      frame.resize(static_cast<size_t>(n));
      if (std::search(frame.begin(), frame.end(), payload.begin(), payload.end()) != frame.end()) {
        return frame;
      }
    }
    return std::nullopt;
  }

  std::unique_ptr<RouterPeerTopology> topology_;
  UniqueFd capture_;
};

Frame bytes_of(const Frame& f, size_t from, size_t count) {
  return Frame(f.begin() + from, f.begin() + from + count);
}
Frame address_bytes(const char* text) {
  IpAddress a = ip(text);
  return Frame(a.data(), a.data() + a.size());
}

TEST_F(RouterEncapLiveTest, Ipv4DatagramToVipArrivesGreEncapsulated) {
  const std::string payload = "to the VIP over GRE (v4)";
  send_udp(AF_INET, kVip4, 5353, payload);
  auto frame = capture_with(payload);
  ASSERT_TRUE(frame) << "no frame with the payload reached rn0";
  const Frame& f = *frame;
  ASSERT_GE(f.size(), 14u + 24 + 20 + 8 + payload.size());
  EXPECT_EQ(bytes_of(f, 0, 6),
            Frame(topology_->peer_mac().data(), topology_->peer_mac().data() + 6));
  EXPECT_EQ(bytes_of(f, 12, 2), (Frame{0x08, 0x00}));
  // Outer IPv4: 20 bytes, GRE, TTL 64, router -> node, valid header checksum.
  EXPECT_EQ(f[14], 0x45);
  EXPECT_EQ(f[14 + 8], 64);
  EXPECT_EQ(f[14 + 9], IPPROTO_GRE);
  EXPECT_EQ(packet::internet_checksum(std::span<const uint8_t>(f.data() + 14, 20)), 0);
  EXPECT_EQ(bytes_of(f, 14 + 12, 4), address_bytes(kRouter4));
  EXPECT_EQ(bytes_of(f, 14 + 16, 4), address_bytes(kNode4));
  EXPECT_EQ(((f[16] << 8) | f[17]), static_cast<int>(f.size() - 14));
  // GRE version 0, no flags, IPv4 inside; the inner packet is the router's datagram.
  EXPECT_EQ(bytes_of(f, 34, 4), (Frame{0x00, 0x00, 0x08, 0x00}));
  EXPECT_EQ(f[38], 0x45);
  EXPECT_EQ(f[38 + 9], IPPROTO_UDP);
  EXPECT_EQ(bytes_of(f, 38 + 12, 4), address_bytes(kRouter4));
  EXPECT_EQ(bytes_of(f, 38 + 16, 4), address_bytes(kVip4));
  EXPECT_EQ(packet::internet_checksum(std::span<const uint8_t>(f.data() + 38, 20)), 0);

  auto c = topology_->encap().counters();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->encapsulated.packets, 1u);
  EXPECT_EQ(c->errors.packets, 0u);
}

TEST_F(RouterEncapLiveTest, Ipv6DatagramToVipArrivesInIpv6Gre) {
  const std::string payload = "to the VIP over GRE (v6)";
  send_udp(AF_INET6, kVip6, 53, payload);
  auto frame = capture_with(payload);
  ASSERT_TRUE(frame) << "no frame with the payload reached rn0";
  const Frame& f = *frame;
  ASSERT_GE(f.size(), 14u + 44 + 40 + 8 + payload.size());
  EXPECT_EQ(bytes_of(f, 12, 2), (Frame{0x86, 0xdd}));
  EXPECT_EQ(f[14] >> 4, 6);
  EXPECT_EQ(f[14 + 6], IPPROTO_GRE);
  EXPECT_EQ(f[14 + 7], 64);
  EXPECT_EQ(bytes_of(f, 14 + 8, 16), address_bytes(kRouter6));
  EXPECT_EQ(bytes_of(f, 14 + 24, 16), address_bytes(kNode6));
  EXPECT_EQ(((f[18] << 8) | f[19]), static_cast<int>(f.size() - 14 - 40));
  EXPECT_EQ(bytes_of(f, 54, 4), (Frame{0x00, 0x00, 0x86, 0xdd}));
  EXPECT_EQ(f[58] >> 4, 6);
  EXPECT_EQ(bytes_of(f, 58 + 24, 16), address_bytes(kVip6));
}

TEST_F(RouterEncapLiveTest, TrafficToTheNodeItselfStaysPlain) {
  const std::string payload = "to the node, not a VIP";
  send_udp(AF_INET, kNode4, 7000, payload);
  auto frame = capture_with(payload);
  ASSERT_TRUE(frame);
  EXPECT_EQ((*frame)[14 + 9], IPPROTO_UDP);  // no outer header
  EXPECT_EQ(bytes_of(*frame, 14 + 16, 4), address_bytes(kNode4));
  auto c = topology_->encap().counters();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->encapsulated.packets, 0u);
  EXPECT_GE(c->passed.packets, 1u);
}

// The frame grows after the stack's MTU check, and a veth silently drops frames over its MTU:
// a datagram that fits the link once encapsulated goes in GRE, a bigger one goes plain
// (counted too_big) rather than being lost. Both reach the node.
TEST_F(RouterEncapLiveTest, DatagramsTooBigForGreOnTheLinkGoPlain) {
  const size_t fits = 1500 - 20 - 8 - 24;  // outer IPv4 datagram of exactly 1500 bytes
  const size_t too_big = fits + 1;         // outer 1501
  for (size_t size : {fits, too_big}) {
    std::string payload(size, 'x');
    const std::string label = ("size " + std::to_string(size) + "       ").substr(0, 12);
    payload.replace(0, label.size(), label);
    send_udp(AF_INET, kVip4, 5353, payload);
    auto frame = capture_with(label);
    ASSERT_TRUE(frame) << "the " << size << "-byte datagram was lost";
    if (size == fits) {
      EXPECT_EQ(frame->size(), 14u + 1500);
      EXPECT_EQ((*frame)[14 + 9], IPPROTO_GRE);
    } else {
      EXPECT_EQ(frame->size(), 14u + 20 + 8 + size);
      EXPECT_EQ((*frame)[14 + 9], IPPROTO_UDP);
    }
  }
  auto c = topology_->encap().counters();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->encapsulated.packets, 1u);
  EXPECT_EQ(c->too_big.packets, 1u);
  EXPECT_EQ(c->errors.packets, 0u);
}

}  // namespace
}  // namespace rail
