// Tests for the pure parts of the health checker: spec validation, rise/fall counting, check
// timing with jitter, the HTTP request and status-line parsing.
#include <gtest/gtest.h>

#include "daemon/health/check_timing.h"
#include "daemon/health/health_spec.h"
#include "daemon/health/http_response.h"
#include "daemon/health/rise_fall.h"

namespace rail::health {
namespace {

TEST(HealthSpec, DefaultsValidateAndTypesParse) {
  HealthCheckSpec spec;
  spec.port = 80;
  EXPECT_TRUE(spec.validate());
  EXPECT_EQ(*parse_check_type("https"), CheckType::kHttps);
  EXPECT_EQ(*parse_check_type("none"), CheckType::kNone);
  auto bad = parse_check_type("icmp");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'icmp'"), std::string::npos);
}

TEST(HealthSpec, EveryProblemIsListed) {
  HealthCheckSpec spec;
  spec.type = CheckType::kHttp;
  spec.port = 0;
  spec.rise = 0;
  spec.timeout = Millis(3000);
  spec.path = "health\r\nX: y";
  auto status = spec.validate();
  ASSERT_FALSE(status);
  const std::string& m = status.error().message;
  EXPECT_NE(m.find("port must be set"), std::string::npos) << m;
  EXPECT_NE(m.find("rise must be >= 1"), std::string::npos) << m;
  EXPECT_NE(m.find("timeout 3000 ms exceeds interval 2000 ms"), std::string::npos) << m;
  EXPECT_NE(m.find("must start with /"), std::string::npos) << m;
  EXPECT_NE(m.find("line breaks"), std::string::npos) << m;
}

TEST(HealthSpec, NoneNeedsNoPort) {
  HealthCheckSpec spec;
  spec.type = CheckType::kNone;
  EXPECT_TRUE(spec.validate());
}

TEST(RiseFall, RisesAfterRiseSuccessesAndFallsAfterFallFailures) {
  RiseFall rf(2, 3, BackendState::kDown);
  EXPECT_FALSE(rf.record(true));
  EXPECT_TRUE(rf.record(true));
  EXPECT_EQ(rf.state(), BackendState::kUp);
  EXPECT_FALSE(rf.record(false));
  EXPECT_FALSE(rf.record(false));
  EXPECT_TRUE(rf.record(false));
  EXPECT_EQ(rf.state(), BackendState::kDown);
}

TEST(RiseFall, FlappingNeverChangesStateAndInitialUpIsKept) {
  RiseFall rf(2, 2, BackendState::kUp);
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(rf.record(i % 2 == 0));
    EXPECT_EQ(rf.state(), BackendState::kUp);
  }
  EXPECT_TRUE(rf.record(false));  // the 10th result was a failure: two in a row now
}

TEST(RiseFall, NewThresholdsKeepStateAndRestartStreaks) {
  RiseFall rf(1, 1, BackendState::kDown);
  EXPECT_TRUE(rf.record(true));
  rf.set_thresholds(3, 3);
  EXPECT_EQ(rf.state(), BackendState::kUp);
  EXPECT_EQ(rf.successes(), 0u);
  EXPECT_FALSE(rf.record(false));
  EXPECT_FALSE(rf.record(false));
  EXPECT_TRUE(rf.record(false));
}

TEST(CheckTiming, FirstCheckIsSpreadOverJitterTimesInterval) {
  std::mt19937_64 rng(7);
  TimePoint now{};
  Millis interval(1000);
  for (int i = 0; i < 200; ++i) {
    TimePoint t = first_check_time(now, interval, 0.1, rng);
    EXPECT_GE(t, now);
    EXPECT_LE(t, now + Millis(100));
  }
  EXPECT_EQ(first_check_time(now, interval, 0.0, rng), now);
}

TEST(CheckTiming, NextCheckIsStartPlusJitteredIntervalNeverBeforeEnd) {
  std::mt19937_64 rng(7);
  TimePoint start{};
  Millis interval(1000);
  TimePoint lo = start + Millis(2000), hi = start;
  for (int i = 0; i < 500; ++i) {
    TimePoint t = next_check_time(start, start + Millis(5), interval, 0.1, rng);
    lo = std::min(lo, t);
    hi = std::max(hi, t);
  }
  EXPECT_GE(lo, start + Millis(900));
  EXPECT_LE(hi, start + Millis(1100));
  EXPECT_LT(lo, start + Millis(950));  // the jitter is actually used
  EXPECT_GT(hi, start + Millis(1050));
  // A check that took longer than the jittered interval: the next one starts at its end.
  EXPECT_EQ(next_check_time(start, start + Millis(1500), interval, 0.1, rng), start + Millis(1500));
  EXPECT_EQ(next_check_time(start, start, interval, 0.0, rng), start + interval);
}

TEST(HttpRequest, HostHeaderDefaultsToAddressWithNonDefaultPort) {
  HealthCheckSpec spec;
  spec.type = CheckType::kHttp;
  spec.path = "/healthz";
  ProbeTarget target{*IpAddress::parse("198.18.0.10"), 8080, std::nullopt, 0};
  EXPECT_EQ(build_http_request(spec, target),
            "GET /healthz HTTP/1.1\r\nHost: 198.18.0.10:8080\r\nUser-Agent: rail-health/1\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n");
  target = ProbeTarget{*IpAddress::parse("2001:db8::1"), 80, std::nullopt, 0};
  EXPECT_NE(build_http_request(spec, target).find("Host: [2001:db8::1]\r\n"), std::string::npos);
  spec.host = "www.example.com";
  EXPECT_NE(build_http_request(spec, target).find("Host: www.example.com\r\n"), std::string::npos);
}

TEST(HttpResponse, StatusLines) {
  EXPECT_EQ(*parse_status_line("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"), 200);
  EXPECT_EQ(*parse_status_line("HTTP/1.0 503 Service Unavailable\r\n"), 503);
  EXPECT_EQ(*parse_status_line("HTTP/1.1 204\r\n"), 204);
  EXPECT_FALSE(parse_status_line("HTTP/2 200\r\n"));
  EXPECT_FALSE(parse_status_line("HTTP/1.1 20x OK\r\n"));
  EXPECT_FALSE(parse_status_line("HTTP/1.1 2000 OK\r\n"));
  EXPECT_FALSE(parse_status_line("SSH-2.0-OpenSSH\r\n"));
  auto bad = parse_status_line(std::string("\x16\x03\x01 junk\r\n"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'?"), std::string::npos);  // control bytes not echoed
  EXPECT_EQ(find_head_end("HTTP/1.1 200 OK\r\n\r\nbody"), 19u);
  EXPECT_EQ(find_head_end("HTTP/1.1 200 OK\r\n"), std::string::npos);
}

}  // namespace
}  // namespace rail::health
