// Probe tests against real servers in a private network namespace: TCP, HTTP, HTTPS (self-signed
// certificate, verification off and on), UDP echo vs closed port, timeouts, source binding.
#include <gtest/gtest.h>

#include <chrono>

#include "daemon/health/probes.h"
#include "health_test_netns.h"
#include "health_test_servers.h"

namespace rail::health {
namespace {

using testing::ServerConfig;
using testing::ServerKind;
using testing::ServersInNetnsTest;
using testing::TestServer;

class HealthProbeTest : public ServersInNetnsTest {
 protected:
  static ProbeTarget target(uint16_t port, const char* address = "127.0.0.1") {
    return ProbeTarget{*IpAddress::parse(address), port, std::nullopt, 0};
  }

  static HealthCheckSpec spec(CheckType type, uint16_t port, Millis timeout = Millis(500)) {
    HealthCheckSpec s;
    s.type = type;
    s.port = port;
    s.timeout = timeout;
    s.path = "/health";
    return s;
  }

  // The probe runs on a thread inside the namespace, as the engine's workers do.
  Result<ProbeOutcome> probe(const ProbeTarget& t, const HealthCheckSpec& s) {
    return ns_->run([&] { return run_probe(t, s); });
  }

  // A port with nothing behind it: bound and closed again.
  uint16_t closed_port(ServerKind kind) {
    auto server = serve({kind});
    return server->port();
  }
};

TEST_F(HealthProbeTest, TcpConnectsToListenerAndIsRefusedOnClosedPort) {
  auto server = serve({ServerKind::kTcp});
  auto up = probe(target(server->port()), spec(CheckType::kTcp, server->port()));
  ASSERT_TRUE(up) << up.error().describe();
  EXPECT_TRUE(up->ok) << up->detail;
  EXPECT_LT(up->latency, Millis(100));

  uint16_t port = closed_port(ServerKind::kTcp);
  auto down = probe(target(port), spec(CheckType::kTcp, port));
  ASSERT_TRUE(down);
  EXPECT_FALSE(down->ok);
  EXPECT_NE(down->detail.find("refused"), std::string::npos) << down->detail;
}

TEST_F(HealthProbeTest, HttpStatusDecides) {
  auto server = serve({ServerKind::kHttp, {{"/health", 200}, {"/broken", 500}}});
  uint16_t port = server->port();
  auto ok200 = probe(target(port), spec(CheckType::kHttp, port));
  ASSERT_TRUE(ok200) << ok200.error().describe();
  EXPECT_TRUE(ok200->ok) << ok200->detail;
  EXPECT_EQ(ok200->detail, "HTTP 200");

  HealthCheckSpec broken = spec(CheckType::kHttp, port);
  broken.path = "/broken";
  auto got500 = probe(target(port), broken);
  ASSERT_TRUE(got500);
  EXPECT_FALSE(got500->ok);
  EXPECT_EQ(got500->detail, "HTTP 500 (expected 200)");

  broken.expect_status = 500;  // a check may expect any one status
  EXPECT_TRUE(probe(target(port), broken)->ok);

  HealthCheckSpec wrong_path = spec(CheckType::kHttp, port);
  wrong_path.path = "/nope";
  auto got404 = probe(target(port), wrong_path);
  ASSERT_TRUE(got404);
  EXPECT_FALSE(got404->ok);
  EXPECT_EQ(got404->detail, "HTTP 404 (expected 200)");
}

TEST_F(HealthProbeTest, HttpToAServerThatNeverAnswersTimesOutOnTime) {
  auto server = serve({ServerKind::kHang});
  auto start = std::chrono::steady_clock::now();
  auto hung = probe(target(server->port()), spec(CheckType::kHttp, server->port(), Millis(300)));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(hung);
  EXPECT_FALSE(hung->ok);
  EXPECT_NE(hung->detail.find("timeout after 300 ms"), std::string::npos) << hung->detail;
  EXPECT_GE(took, Millis(295));
  EXPECT_LT(took, Millis(450));
  EXPECT_GE(hung->latency, Millis(295));
}

TEST_F(HealthProbeTest, HttpsSelfSignedIsUpWithoutVerificationAndDownWithIt) {
  auto server = serve({ServerKind::kHttps, {{"/health", 200}}});
  uint16_t port = server->port();
  HealthCheckSpec s = spec(CheckType::kHttps, port);
  s.host = "rail-test";
  auto up = probe(target(port), s);
  ASSERT_TRUE(up) << up.error().describe();
  EXPECT_TRUE(up->ok) << up->detail;
  EXPECT_EQ(up->detail, "HTTP 200");

  s.tls_verify = true;
  auto down = probe(target(port), s);
  ASSERT_TRUE(down) << down.error().describe();
  EXPECT_FALSE(down->ok);
  EXPECT_NE(down->detail.find("certificate verify failed"), std::string::npos) << down->detail;

  // https against a plain HTTP server (it waits for a request line that never comes): the
  // handshake fails within the timeout.
  auto plain = serve({ServerKind::kHttp, {{"/health", 200}}});
  auto mismatch = probe(target(plain->port()), spec(CheckType::kHttps, plain->port(), Millis(200)));
  ASSERT_TRUE(mismatch);
  EXPECT_FALSE(mismatch->ok);
  EXPECT_NE(mismatch->detail.find("TLS"), std::string::npos) << mismatch->detail;
}

TEST_F(HealthProbeTest, UdpEchoIsUpAndClosedPortIsRefusedViaIcmp) {
  auto server = serve({ServerKind::kUdpEcho});
  auto up = probe(target(server->port()), spec(CheckType::kUdp, server->port()));
  ASSERT_TRUE(up) << up.error().describe();
  EXPECT_TRUE(up->ok) << up->detail;

  uint16_t port = closed_port(ServerKind::kUdpEcho);
  auto down = probe(target(port), spec(CheckType::kUdp, port, Millis(1000)));
  ASSERT_TRUE(down);
  EXPECT_FALSE(down->ok);
  EXPECT_NE(down->detail.find("refused"), std::string::npos) << down->detail;
  EXPECT_LT(down->latency, Millis(200));  // the ICMP error, not the timeout, decided
}

TEST_F(HealthProbeTest, UdpSilenceIsATimeout) {
  // A bound UDP socket that never reads: no reply and no ICMP error either.
  auto silent = ns_->run([]() -> Result<std::pair<UniqueFd, uint16_t>> {
    UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), len) != 0) {
      return make_error(ErrorCode::kSystem, "bind");
    }
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sin), &len);
    return std::make_pair(std::move(fd), ntohs(sin.sin_port));
  });
  ASSERT_TRUE(silent);
  uint16_t port = silent->second;
  auto down = probe(target(port), spec(CheckType::kUdp, port, Millis(200)));
  ASSERT_TRUE(down);
  EXPECT_FALSE(down->ok);
  EXPECT_NE(down->detail.find("timeout after 200 ms"), std::string::npos) << down->detail;
}

TEST_F(HealthProbeTest, SourceAddressIsBoundAndAMissingOneIsOurError) {
  auto server = serve({ServerKind::kUdpEcho});
  ProbeTarget t = target(server->port());
  t.source = *IpAddress::parse("127.0.0.2");
  auto up = probe(t, spec(CheckType::kUdp, server->port()));
  ASSERT_TRUE(up) << up.error().describe();
  EXPECT_TRUE(up->ok);
  EXPECT_EQ(server->last_peer(), "127.0.0.2");

  t.source = *IpAddress::parse("198.18.0.9");  // not configured in the namespace
  auto local = probe(t, spec(CheckType::kTcp, server->port()));
  ASSERT_FALSE(local);
  EXPECT_NE(local.error().message.find("bind probe source 198.18.0.9"), std::string::npos)
      << local.error().message;
}

TEST_F(HealthProbeTest, NoneIsAlwaysUp) {
  auto none = probe(target(1), spec(CheckType::kNone, 0));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->ok);
}

}  // namespace
}  // namespace rail::health
