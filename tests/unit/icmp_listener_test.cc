// Passive ICMP detection: the destination-unreachable parser on readable built packets, the
// listener's choice of backend and rate limit, and real raw sockets in a private namespace.
#include "daemon/health/icmp_listener.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "core/packet/builder.h"
#include "core/packet/headers.h"
#include "daemon/health/icmp_unreachable.h"
#include "health_test_netns.h"

namespace rail::health {
namespace {

using packet::PacketBuilder;
using std::chrono::milliseconds;

IpAddress ip(std::string_view text) {
  return *IpAddress::parse(text);
}

const IpAddress kNode = ip("198.18.0.1");
const IpAddress kBackend = ip("198.18.0.21");
const IpAddress kRouter = ip("198.18.0.254");
const IpAddress kNode6 = ip("2001:db8::1");
const IpAddress kBackend6 = ip("2001:db8::21");

// What the node sent: a health check's SYN to the backend.
std::vector<uint8_t> check_syn(const IpAddress& from, const IpAddress& to) {
  return PacketBuilder().ipv4(from, to).tcp(40000, 8080).syn().build();
}

// An ICMPv4 error datagram (IP header included, as a raw socket reads it).
std::vector<uint8_t> icmp_error(const IpAddress& from, uint8_t type, uint8_t code,
                                const std::vector<uint8_t>& quoted) {
  return PacketBuilder().ipv4(from, kNode).icmp(type, code).payload(quoted).build();
}

// An ICMPv6 message as a raw ICMPv6 socket reads it: the IPv6 header stripped.
std::vector<uint8_t> icmpv6_message(const IpAddress& from, uint8_t type, uint8_t code) {
  auto quoted = PacketBuilder().ipv6(kNode6, kBackend6).udp(40000, 53).payload("q").build();
  auto packet = PacketBuilder().ipv6(from, kNode6).icmpv6(type, code).payload(quoted).build();
  return {packet.begin() + 40, packet.end()};
}

TEST(IcmpUnreachable, HostUnreachableFromTheBackend) {
  auto r = parse_icmpv4_unreachable(icmp_error(kBackend, 3, 1, check_syn(kNode, kBackend)));
  ASSERT_TRUE(r) << r.error().describe();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->from, kBackend);
  EXPECT_EQ((*r)->code, 1);
  EXPECT_EQ((*r)->quote.src, kNode);
  EXPECT_EQ((*r)->quote.dst, kBackend);
  EXPECT_EQ((*r)->quote.protocol, packet::kIpProtoTcp);
  EXPECT_EQ((*r)->quote.dst_port, 8080);
}

TEST(IcmpUnreachable, CountedCodesOnly) {
  for (uint8_t code : {0, 1, 3, 6, 7, 9, 10, 13}) {
    auto r = parse_icmpv4_unreachable(icmp_error(kRouter, 3, code, check_syn(kNode, kBackend)));
    ASSERT_TRUE(r) << int(code);
    EXPECT_TRUE(r->has_value()) << int(code);
  }
  // Fragmentation needed is path MTU discovery; protocol unreachable, time exceeded, echo: no.
  for (auto [type, code] : {std::pair{3, 4}, {3, 2}, {11, 0}, {0, 0}}) {
    auto r = parse_icmpv4_unreachable(
        icmp_error(kRouter, uint8_t(type), uint8_t(code), check_syn(kNode, kBackend)));
    ASSERT_TRUE(r) << type << "/" << code << ": " << r.error().describe();
    EXPECT_FALSE(r->has_value()) << type << "/" << code;
  }
}

TEST(IcmpUnreachable, MalformedIsAnErrorNeverARead) {
  // Bad ICMP checksum.
  auto bad = PacketBuilder()
                 .ipv4(kBackend, kNode)
                 .icmp(3, 1)
                 .l4_checksum(0x1234)
                 .payload(check_syn(kNode, kBackend))
                 .build();
  EXPECT_FALSE(parse_icmpv4_unreachable(bad));
  // A quote shorter than the IP header + 8 bytes.
  auto syn = check_syn(kNode, kBackend);
  auto short_quote = icmp_error(kBackend, 3, 1, {syn.begin(), syn.begin() + 24});
  auto r = parse_icmpv4_unreachable(short_quote);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("quoted L4 header"), std::string::npos) << r.error().message;
  // Not ICMP at all.
  EXPECT_FALSE(parse_icmpv4_unreachable(check_syn(kBackend, kNode)));
  // Every truncation, in an exact-size buffer (ASan sees any overread): an error, no crash.
  auto good = icmp_error(kBackend, 3, 1, syn);
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
    EXPECT_FALSE(parse_icmpv4_unreachable(cut)) << n;
  }
}

TEST(IcmpUnreachable, Icmpv6) {
  auto r = parse_icmpv6_unreachable(kBackend6, icmpv6_message(kBackend6, 1, 4));
  ASSERT_TRUE(r) << r.error().describe();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->from, kBackend6);
  EXPECT_EQ((*r)->quote.dst, kBackend6);
  EXPECT_EQ((*r)->quote.protocol, packet::kIpProtoUdp);
  for (auto [type, code] : {std::pair{1, 2}, {2, 0}, {128, 0}}) {
    auto other = parse_icmpv6_unreachable(kBackend6,
                                          icmpv6_message(kBackend6, uint8_t(type), uint8_t(code)));
    ASSERT_TRUE(other) << type;
    EXPECT_FALSE(other->has_value()) << type << "/" << code;
  }
  auto message = icmpv6_message(kBackend6, 1, 3);
  message.resize(8 + 40 + 7);  // one byte short of the quoted L4 header
  EXPECT_FALSE(parse_icmpv6_unreachable(kBackend6, message));
  EXPECT_FALSE(parse_icmpv6_unreachable(kBackend, icmpv6_message(kBackend6, 1, 3)));
}

// The listener's decisions, fed parsed messages, with a controllable clock. `report` stands for
// Controller::report_unreachable: kBackend and kBackend6 are checked backends (one check each).
struct Decisions : ::testing::Test {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(100)};
  std::vector<IpAddress> reported;
  std::unique_ptr<IcmpListener> listener;

  void SetUp() override {
    IcmpListener::Options options;
    options.min_gap = milliseconds(1000);
    options.clock = [this] { return now; };
    auto opened = IcmpListener::open(options, [this](const IpAddress& a) -> size_t {
      reported.push_back(a);
      return a == kBackend || a == kBackend6 ? 1 : 0;
    });
    if (!opened && opened.error().code == ErrorCode::kPermission) GTEST_SKIP() << "no CAP_NET_RAW";
    ASSERT_TRUE(opened) << opened.error().describe();
    listener = std::move(*opened);
  }
};

TEST_F(Decisions, BackendSourceThenQuotedDestinationThenRateLimit) {
  listener->handle(
      parse_icmpv4_unreachable(icmp_error(kBackend, 3, 1, check_syn(kNode, kBackend))));
  EXPECT_EQ(reported, std::vector<IpAddress>{kBackend});
  // A router about a packet to the backend: the router is not a backend, the destination is.
  reported.clear();
  now += milliseconds(1000);
  listener->handle(parse_icmpv4_unreachable(icmp_error(kRouter, 3, 0, check_syn(kNode, kBackend))));
  EXPECT_EQ(reported, (std::vector<IpAddress>{kRouter, kBackend}));
  // Within the gap: not reported again.
  reported.clear();
  now += milliseconds(999);
  listener->handle(
      parse_icmpv4_unreachable(icmp_error(kBackend, 3, 3, check_syn(kNode, kBackend))));
  EXPECT_TRUE(reported.empty());
  // About someone else entirely.
  listener->handle(
      parse_icmpv4_unreachable(icmp_error(kRouter, 3, 1, check_syn(kNode, ip("198.18.9.9")))));
  listener->handle(parse_icmpv4_unreachable(icmp_error(kRouter, 3, 4, check_syn(kNode, kBackend))));
  listener->handle(parse_icmpv4_unreachable(check_syn(kNode, kBackend)));
  const IcmpListenerStats s = listener->stats();
  EXPECT_EQ(s.matched, 2u);
  EXPECT_EQ(s.checks_triggered, 2u);
  EXPECT_EQ(s.ignored[size_t(IcmpIgnored::kRateLimited)], 1u);
  EXPECT_EQ(s.ignored[size_t(IcmpIgnored::kNotBackend)], 1u);
  EXPECT_EQ(s.ignored[size_t(IcmpIgnored::kOtherType)], 1u);
  EXPECT_EQ(s.ignored[size_t(IcmpIgnored::kMalformed)], 1u);
}

// Real sockets: an ICMP unreachable and an echo request sent over loopback in a private
// namespace; only the unreachable passes the socket filter, and it is reported.
TEST(IcmpListenerSockets, ReadsUnreachablesOnly) {
  auto ns = testing::TestNetns::create();
  if (!ns) GTEST_SKIP() << ns.error().describe();
  Status st = ns->run([&]() -> Status {
    const IpAddress lo = ip("127.0.0.1"), peer = ip("127.0.0.2");
    std::vector<IpAddress> reported;
    auto listener = IcmpListener::open({}, [&](const IpAddress& a) -> size_t {
      reported.push_back(a);
      return a == kBackend ? 1 : 0;
    });
    if (!listener) return listener.error();
    UniqueFd raw(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));  // IP header included
    if (!raw.valid()) return make_error(ErrorCode::kSystem, "raw socket");
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto send = [&](const std::vector<uint8_t>& datagram) {
      return sendto(raw.get(), datagram.data(), datagram.size(), 0,
                    reinterpret_cast<sockaddr*>(&to), sizeof(to)) == ssize_t(datagram.size());
    };
    if (!send(PacketBuilder().ipv4(peer, lo).icmp_echo_request(1, 1).build()) ||
        !send(PacketBuilder().ipv4(peer, lo).icmp(3, 1).payload(check_syn(lo, kBackend)).build()))
      return make_error(ErrorCode::kSystem, std::string("sendto: ") + std::strerror(errno));
    pollfd p{(*listener)->fds()[0], POLLIN, 0};
    if (poll(&p, 1, 1000) != 1) return make_error(ErrorCode::kSystem, "nothing to read");
    EXPECT_EQ((*listener)->drain(p.fd), 1u);  // the echo request never reached the socket
    EXPECT_EQ(reported, (std::vector<IpAddress>{peer, kBackend}));
    const IcmpListenerStats s = (*listener)->stats();
    EXPECT_EQ(s.received_v4, 1u);
    EXPECT_EQ(s.matched, 1u);
    return ok();
  });
  ASSERT_TRUE(st) << st.error().describe();
}

}  // namespace
}  // namespace rail::health
