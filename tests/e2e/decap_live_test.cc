// Live decap: GRE/IPIP/GUE from a client namespace over a veth to a backend namespace whose
// decap program (tc ingress or XDP) delivers the inner datagram to a UDP socket on the VIP.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "core/packet/builder.h"
#include "dataplane/decap_program.h"
#include "dataplane/libbpf_error.h"
#include "e2e_sockets.h"
#include "netns.h"

namespace rail {
namespace {

using dataplane::DecapProgram;
using e2e::Netns;
using e2e::sockaddr_v4;
using e2e::VethPair;

constexpr const char* kClientIp = "198.18.0.1";
constexpr const char* kBackendIp = "198.18.0.2";  // the backend's tunnel endpoint
constexpr const char* kVip = "198.18.100.1";
constexpr uint16_t kServicePort = 5353;
constexpr uint16_t kClientPort = 40001;

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

// A UDP socket bound to addr:port with a 2 s receive timeout, created by the calling thread
// (so in its namespace).
Result<UniqueFd> bound_udp_socket(const char* addr, uint16_t port) {
  UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return dataplane::errno_error("socket");
  timeval timeout{2, 0};
  setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in sa = sockaddr_v4(addr, port);
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    return dataplane::errno_error(std::string("bind ") + addr);
  }
  return s;
}

Result<std::string> receive(const UniqueFd& s, sockaddr_in* from) {
  char buf[2048];
  socklen_t len = sizeof(*from);
  ssize_t n = recvfrom(s.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(from), &len);
  if (n < 0) return dataplane::errno_error("recvfrom");
  return std::string(buf, static_cast<size_t>(n));
}

enum class Encap { kGre, kIpip, kGue };
struct LiveCase {
  const char* name;
  bool xdp;
  Encap encap;
};

// client (198.18.0.1, veth) <-> backend (198.18.0.2, veth; VIP 198.18.100.1 on lo).
class DecapLiveTest : public ::testing::TestWithParam<LiveCase> {
 protected:
  void SetUp() override {
    auto client = Netns::create("client");
    ASSERT_TRUE(client) << client.error().describe();
    client_.emplace(std::move(*client));
    auto backend = Netns::create("backend");
    ASSERT_TRUE(backend) << backend.error().describe();
    backend_.emplace(std::move(*backend));
    auto veth = VethPair::create(*client_, "rc0", *backend_, "rb0");
    ASSERT_TRUE(veth) << veth.error().describe();
    veth_.emplace(std::move(*veth));
    for (const std::string& cmd : {std::string("ip addr add ") + kClientIp + "/24 dev rc0"}) {
      auto r = client_->exec(cmd);
      ASSERT_TRUE(r) << r.error().describe();
    }
    // The VIP lives on lo; rp_filter off because decapsulated packets arrive from clients
    // the backend may not route back through this interface (docs/decap.md).
    for (const std::string& cmd : {std::string("ip addr add ") + kBackendIp + "/24 dev rb0",
                                   std::string("ip addr add ") + kVip + "/32 dev lo",
                                   std::string("sysctl -qw net.ipv4.conf.all.rp_filter=0"),
                                   std::string("sysctl -qw net.ipv4.conf.rb0.rp_filter=0")}) {
      auto r = backend_->exec(cmd);
      ASSERT_TRUE(r) << r.error().describe();
    }

    auto program = DecapProgram::load();
    ASSERT_TRUE(program) << program.error().describe();
    program_.emplace(std::move(*program));
    ASSERT_TRUE(program_->add_address(ip(kBackendIp)));
    Status attached = backend_->run(
        [&] { return GetParam().xdp ? program_->attach_xdp("rb0") : program_->attach_tc("rb0"); });
    ASSERT_TRUE(attached) << attached.error().describe();
  }

  // Teardown order: program (detaches in the backend namespace), veth, namespaces.
  void TearDown() override {
    program_.reset();
    veth_.reset();
    backend_.reset();
    client_.reset();
  }

  // Sends `inner` (a bare IPv4 packet) from the client to the backend's tunnel endpoint,
  // wrapped as the case says, through a raw socket: the client kernel adds the outer IPv4.
  void send_encapsulated(const std::vector<uint8_t>& inner) {
    Status sent = client_->run([&]() -> Status {
      int proto = GetParam().encap == Encap::kGre    ? IPPROTO_GRE
                  : GetParam().encap == Encap::kIpip ? IPPROTO_IPIP
                                                     : IPPROTO_UDP;
      std::vector<uint8_t> payload;
      if (GetParam().encap == Encap::kGre) payload = {0x00, 0x00, 0x08, 0x00};  // RFC 2784
      if (GetParam().encap == Encap::kGue) {
        // A plain UDP socket to the GUE port: the datagram body is the inner IP packet.
        auto s = bound_udp_socket(kClientIp, 0xc001);
        if (!s) return s.error();
        sockaddr_in to = sockaddr_v4(kBackendIp, RAIL_DECAP_DEFAULT_GUE_PORT);
        if (sendto(s->get(), inner.data(), inner.size(), 0, reinterpret_cast<sockaddr*>(&to),
                   sizeof(to)) < 0) {
          return dataplane::errno_error("sendto GUE");
        }
        return ok();
      }
      payload.insert(payload.end(), inner.begin(), inner.end());
      UniqueFd raw(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, proto));
      if (!raw.valid()) return dataplane::errno_error("raw socket");
      sockaddr_in to = sockaddr_v4(kBackendIp, 0);
      if (sendto(raw.get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof(to)) < 0) {
        return dataplane::errno_error("sendto raw");
      }
      return ok();
    });
    ASSERT_TRUE(sent) << sent.error().describe();
  }

  std::optional<Netns> client_, backend_;
  std::optional<VethPair> veth_;
  std::optional<DecapProgram> program_;
};

TEST_P(DecapLiveTest, InnerDatagramReachesTheVipSocketAndTheReplyGoesDirect) {
  // Sockets: the service on the VIP in the backend, the client's own port for the reply.
  UniqueFd service, client_socket;
  ASSERT_TRUE(backend_->run([&]() -> Status {
    auto s = bound_udp_socket(kVip, kServicePort);
    if (!s) return s.error();
    service = std::move(*s);
    return ok();
  }));
  ASSERT_TRUE(client_->run([&]() -> Status {
    auto s = bound_udp_socket(kClientIp, kClientPort);
    if (!s) return s.error();
    client_socket = std::move(*s);
    return ok();
  }));

  auto inner = packet::PacketBuilder()
                   .ipv4(ip(kClientIp), ip(kVip))
                   .udp(kClientPort, kServicePort)
                   .payload("hello through the tunnel")
                   .build();
  send_encapsulated(inner);

  sockaddr_in from{};
  auto got = receive(service, &from);
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(*got, "hello through the tunnel");
  char from_text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &from.sin_addr, from_text, sizeof(from_text));
  EXPECT_STREQ(from_text, kClientIp);
  EXPECT_EQ(ntohs(from.sin_port), kClientPort);

  // Direct server return: the backend answers from the VIP straight to the client.
  const std::string reply = "reply from the VIP";
  ASSERT_EQ(sendto(service.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
                   sizeof(from)),
            static_cast<ssize_t>(reply.size()));
  sockaddr_in reply_from{};
  auto got_reply = receive(client_socket, &reply_from);
  ASSERT_TRUE(got_reply) << got_reply.error().describe();
  EXPECT_EQ(*got_reply, reply);
  inet_ntop(AF_INET, &reply_from.sin_addr, from_text, sizeof(from_text));
  EXPECT_STREQ(from_text, kVip);

  auto stats = program_->stats();
  ASSERT_TRUE(stats) << stats.error().describe();
  rail_decap_stat expected = GetParam().encap == Encap::kGre    ? RAIL_DECAP_STAT_GRE
                             : GetParam().encap == Encap::kIpip ? RAIL_DECAP_STAT_IPIP
                                                                : RAIL_DECAP_STAT_GUE;
  EXPECT_EQ(stats->stat(expected).packets, 1u);
}

TEST_P(DecapLiveTest, WithoutTheTunnelAddressNothingIsDelivered) {
  ASSERT_TRUE(program_->remove_address(ip(kBackendIp)));
  UniqueFd service;
  ASSERT_TRUE(backend_->run([&]() -> Status {
    auto s = bound_udp_socket(kVip, kServicePort);
    if (!s) return s.error();
    service = std::move(*s);
    timeval shorter{0, 300000};
    setsockopt(service.get(), SOL_SOCKET, SO_RCVTIMEO, &shorter, sizeof(shorter));
    return ok();
  }));
  send_encapsulated(packet::PacketBuilder()
                        .ipv4(ip(kClientIp), ip(kVip))
                        .udp(kClientPort, kServicePort)
                        .payload("lost")
                        .build());
  sockaddr_in from{};
  EXPECT_FALSE(receive(service, &from));  // no GRE/IPIP module, no decap: nobody delivers it
  auto stats = program_->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->decapsulated_packets(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Hooks, DecapLiveTest,
                         ::testing::Values(LiveCase{"tc_gre", false, Encap::kGre},
                                           LiveCase{"tc_ipip", false, Encap::kIpip},
                                           LiveCase{"tc_gue", false, Encap::kGue},
                                           LiveCase{"xdp_gre", true, Encap::kGre},
                                           LiveCase{"xdp_gue", true, Encap::kGue}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace rail
