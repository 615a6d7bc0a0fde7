// Live raild, passive health detection: an ICMP destination unreachable sent from a stopped
// backend's address (or by a "router" about a packet to a backend) makes the real raild check
// that backend at once, instead of at its next 30 s check (docs/health-checks.md).
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "core/packet/builder.h"
#include "raild_fixture.h"

namespace rail {
namespace {

using namespace e2e::raild_live;
using packet::PacketBuilder;

// Sends `datagram` (a whole IPv4 datagram, header included) from the calling thread's namespace.
Status send_raw_ipv4(const std::vector<uint8_t>& datagram, const std::string& to) {
  UniqueFd raw(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));  // implies IP_HDRINCL
  if (!raw.valid()) return dataplane::errno_error("socket(SOCK_RAW)");
  sockaddr_in address = sockaddr_v4(to, 0);
  if (sendto(raw.get(), datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&address),
             sizeof(address)) != ssize_t(datagram.size()))
    return dataplane::errno_error("sendto");
  return ok();
}

// "<from> could not deliver this": an ICMP destination unreachable (code) to the Rail node,
// quoting the SYN of a health check from the node to backend `about`.
std::vector<uint8_t> unreachable(const std::string& from, uint8_t code, int about) {
  const IpAddress node = *IpAddress::parse(kRailIp);
  const IpAddress backend = *IpAddress::parse(backend_ip(about));
  const auto quoted = PacketBuilder().ipv4(node, backend).tcp(41000, kPort).syn().build();
  return PacketBuilder()
      .ipv4(*IpAddress::parse(from), node)
      .icmp(packet::kIcmpDestUnreachable, code)
      .payload(quoted)
      .build();
}

// The value of an unlabelled-or-exactly-labelled sample in a /metrics body, or -1.
double metric(const std::string& metrics, const std::string& series) {
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + " ", 0) == 0) return std::atof(line.c_str() + series.size() + 1);
  return -1;
}

class RaildIcmpTest : public RaildLiveTest {};

TEST_F(RaildIcmpTest, UnreachableFromAStoppedBackendTakesItOutWithinASecond) {
  // Checks every 30 s; one failure is enough (fall 1), one success brings a backend up.
  std::string config = config_text("30s");
  for (auto [from, to] : {std::pair{"fall: 2", "fall: 1"}, {"rise: 2", "rise: 1"}})
    config.replace(config.find(from), std::string(from).size(), to);
  write_file(config_path_, config);
  ASSERT_TRUE(start_raild());
  const std::string log_hint = "\nraild log (" + log_path_ + "):\n";
  // The first checks run within jitter (10%) of the interval: up to 3 s.
  auto all_up = wait_until([&] { return all_backends_up() && raild_->running(); }, 8);
  ASSERT_TRUE(all_up) << http("GET", "/v1/vips/www").body << log_hint << read_file(log_path_);
  ASSERT_NE(read_file(log_path_).find("icmp_listener"), std::string::npos) << read_file(log_path_);

  // Backend 2's server stops. Nothing tells raild for up to 30 s: it still says "up".
  servers_[1]->stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  ASSERT_TRUE(backend_state_is(2, "up")) << "checked before the ICMP: the test proves nothing";

  // Backend 2 reports "port unreachable" for a packet of the node's: checked now, down.
  Status st =
      backend(2).run([&] { return send_raw_ipv4(unreachable(backend_ip(2), 3, 2), kRailIp); });
  ASSERT_TRUE(st) << st.error().describe();
  auto down = wait_until([&] { return backend_state_is(2, "down"); }, 5);
  ASSERT_TRUE(down) << http("GET", "/v1/vips/www").body << log_hint << read_file(log_path_);
  std::printf("[ timing ] backend 2 down %.3f s after its ICMP unreachable (check interval 30 s)\n",
              *down);
  EXPECT_LT(*down, 1.0);
  EXPECT_NE(read_file(log_path_).find("backend_suspect"), std::string::npos);
  {
    auto answers = connect_batch("backend 2 down by ICMP");
    EXPECT_EQ(answers.count(backend_name(2)), 0u) << describe(answers);
    EXPECT_EQ(answers.count("fail"), 0u) << describe(answers);
  }

  // A second one within the second: rate-limited, no extra check.
  st = backend(2).run([&] { return send_raw_ipv4(unreachable(backend_ip(2), 1, 2), kRailIp); });
  ASSERT_TRUE(st) << st.error().describe();
  // A "router" (the client's address: not a backend) about a packet to backend 3: backend 3 is
  // checked at once and, healthy, stays up.
  st = client().run([&] { return send_raw_ipv4(unreachable(kClientIp, 1, 3), kRailIp); });
  ASSERT_TRUE(st) << st.error().describe();
  auto counted = wait_until(
      [&] {
        const std::string m = http("GET", "/metrics").body;
        return metric(m, "rail_icmp_received_total{family=\"ipv4\"}") >= 3 &&
               metric(m, "rail_icmp_matched_total") >= 2;
      },
      3);
  const std::string metrics = http("GET", "/metrics").body;
  ASSERT_TRUE(counted) << metrics;
  EXPECT_EQ(metric(metrics, "rail_icmp_received_total{family=\"ipv4\"}"), 3);
  EXPECT_EQ(metric(metrics, "rail_icmp_matched_total"), 2);
  EXPECT_EQ(metric(metrics, "rail_icmp_ignored_total{reason=\"rate_limited\"}"), 1);
  EXPECT_TRUE(backend_state_is(3, "up"));
  EXPECT_TRUE(backend_state_is(2, "down"));
  const std::string file = dir_.path() + "/metrics.txt";
  write_file(file, metrics);
  auto checked = e2e::run_command("promtool check metrics < " + file);
  EXPECT_TRUE(checked) << checked.error().describe() << "\n" << metrics;

  auto stopped_in = raild_->terminate(5);
  ASSERT_TRUE(stopped_in) << log_hint << read_file(log_path_);
  EXPECT_EQ(raild_->exit_status(), 0) << log_hint << read_file(log_path_);
}

}  // namespace
}  // namespace rail
