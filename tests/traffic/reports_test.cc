// Unit tests: rail-mconnect's and rail-tput's JSON objects and text tables.
#include <gtest/gtest.h>

#include "tools/traffic/mconnect.h"
#include "tools/traffic/tput.h"

namespace rail::traffic {
namespace {

MconnectReport mconnect_report() {
  MconnectReport r;
  r.target = "198.18.0.100:8080";
  r.connections = 1000;
  r.ok = 990;
  r.failed = 10;
  r.elapsed_s = 0.5;
  r.backends = {{"b1", 600}, {"b2", 390}};
  r.errors = {{"timeout", 7}, {"refused", 3}};
  return r;
}

TEST(MconnectReport, JsonKeysInTheDocumentedOrder) {
  auto j = mconnect_json(mconnect_report());
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"target", "connections", "ok", "failed", "elapsed_s",
                                            "rate_per_s", "backends", "errors"}));
  EXPECT_EQ(j["rate_per_s"], 2000.0);
  EXPECT_EQ(j["backends"]["b1"], 600);
  EXPECT_EQ(j["errors"]["timeout"], 7);
  MconnectReport none;
  auto empty = mconnect_json(none);
  EXPECT_TRUE(empty["backends"].is_object());  // {} not null, for consumers
  EXPECT_TRUE(empty["errors"].is_object());
  EXPECT_EQ(empty["rate_per_s"], 0.0);
}

TEST(MconnectReport, TextHasSharesTotalsAndFailureKinds) {
  std::string text = mconnect_text(mconnect_report());
  EXPECT_NE(text.find("b1                          600    60.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("1000 connections, 990 ok, 10 failed in 0.500 s (2000/s)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("failed: refused"), std::string::npos) << text;
}

TEST(MconnectReport, DetailsListEveryAttemptWithItsLocalEndpoint) {
  MconnectReport r = mconnect_report();
  EXPECT_FALSE(mconnect_json(r).contains("details"));  // only with --details
  r.details = {{Endpoint(*IpAddress::parse("198.18.1.10"), 40001), "b2", ""},
               {Endpoint(*IpAddress::parse("2001:db8:1::10"), 40002), "", "timeout"},
               {Endpoint(), "", "addr-not-available"}};
  auto j = mconnect_json(r);
  ASSERT_EQ(j["details"].size(), 3u);
  EXPECT_EQ(j["details"][0].dump(), R"({"local":"198.18.1.10:40001","backend":"b2"})");
  EXPECT_EQ(j["details"][1].dump(), R"({"local":"[2001:db8:1::10]:40002","error":"timeout"})");
  EXPECT_EQ(j["details"][2].dump(), R"({"local":"","error":"addr-not-available"})");
  std::string text = mconnect_text(r);
  EXPECT_NE(text.find("198.18.1.10:40001"), std::string::npos) << text;
  EXPECT_NE(text.find("failed: timeout"), std::string::npos) << text;
}

TEST(TputReport, JsonAndRates) {
  TputReport r;
  r.target = "198.18.0.100:8080";
  r.direction = "upload";
  r.streams = 2;
  r.duration_s = 2;
  r.stream_bytes = {1'000'000, 3'000'000};
  r.bytes = 4'000'000;
  auto j = tput_json(r);
  EXPECT_EQ(j["target"], "198.18.0.100:8080");
  EXPECT_EQ(j["direction"], "upload");
  EXPECT_EQ(j["streams"], 2);
  EXPECT_EQ(j["bytes"], 4'000'000);
  EXPECT_EQ(j["bits_per_s"], 16'000'000.0);
  ASSERT_EQ(j["per_stream"].size(), 2u);
  EXPECT_EQ(j["per_stream"][1]["bits_per_s"], 12'000'000.0);
  EXPECT_NE(tput_text(r).find("16.000 Mbit/s"), std::string::npos) << tput_text(r);
}

}  // namespace
}  // namespace rail::traffic
