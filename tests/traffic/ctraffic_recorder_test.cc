// Unit tests: rail-ctraffic's bookkeeping (samples, summary, JSON, text) from scripted events.
#include <gtest/gtest.h>

#include "tools/traffic/ctraffic_recorder.h"

namespace rail::traffic {
namespace {

// 3 connections: two on b1, one on b2; b1 dies in second 2, both replaced on b2.
CtrafficRecorder scripted_run() {
  CtrafficRecorder r;
  r.alive("b1", false);
  r.alive("b1", false);
  r.alive("b2", false);
  for (int i = 0; i < 30; ++i) r.sent();
  for (int i = 0; i < 30; ++i) r.answered(0.5);
  r.take_sample(1, 0);
  for (int i = 0; i < 20; ++i) r.sent();
  for (int i = 0; i < 18; ++i) r.answered(i == 0 ? 7.25 : 0.25);
  r.lost("b1", kLostEof);
  r.lost("b1", kLostReset);
  r.reconnect_failed();
  r.alive("b2", true);
  r.take_sample(2, 1);
  r.alive("b2", true);
  r.sent();  // after the last sample: still in the summary
  return r;
}

TEST(CtrafficRecorder, SamplesCountPerSecondAndTotals) {
  CtrafficRecorder r = scripted_run();
  ASSERT_EQ(r.samples().size(), 2u);
  const CtrafficSample& s1 = r.samples()[0];
  EXPECT_EQ(s1.t, 1);
  EXPECT_EQ(s1.alive, 3u);
  EXPECT_EQ(s1.lost, 0u);
  EXPECT_EQ(s1.sent, 30u);
  EXPECT_EQ(s1.answered, 30u);
  EXPECT_EQ(s1.backends, (std::map<std::string, uint64_t>{{"b1", 2}, {"b2", 1}}));
  const CtrafficSample& s2 = r.samples()[1];
  EXPECT_EQ(s2.alive, 2u);
  EXPECT_EQ(s2.lost, 2u);
  EXPECT_EQ(s2.lost_total, 2u);
  EXPECT_EQ(s2.reconnected_total, 1u);
  EXPECT_EQ(s2.connecting, 1u);
  EXPECT_EQ(s2.sent, 20u);
  EXPECT_EQ(s2.answered, 18u);
  EXPECT_EQ(s2.backends, (std::map<std::string, uint64_t>{{"b2", 2}}));  // b1 gone, not 0
  EXPECT_EQ(r.alive_count(), 3u);
  EXPECT_EQ(r.ever_alive(), 5u);
}

TEST(CtrafficRecorder, SummaryAttributesLossesToTheirBackend) {
  CtrafficSummary s = scripted_run().summary();
  EXPECT_EQ(s.initial_backends, (std::map<std::string, uint64_t>{{"b1", 2}, {"b2", 1}}));
  EXPECT_EQ(s.lost_total, 2u);
  EXPECT_EQ(s.lost_by_backend, (std::map<std::string, uint64_t>{{"b1", 2}}));
  EXPECT_EQ(s.lost_by_reason, (std::map<std::string, uint64_t>{{"backend_changed", 0},
                                                               {"connect_failed", 0},
                                                               {"eof", 1},
                                                               {"reset", 1},
                                                               {"timeout", 0}}));
  EXPECT_EQ(s.reconnected, 2u);
  EXPECT_EQ(s.reconnect_failed, 1u);
  EXPECT_EQ(s.sent, 51u);
  EXPECT_EQ(s.answered, 48u);
  EXPECT_DOUBLE_EQ(s.max_latency_ms, 7.25);
  EXPECT_DOUBLE_EQ(s.mean_latency_ms, (30 * 0.5 + 7.25 + 17 * 0.25) / 48);
  EXPECT_EQ(s.final_backends, (std::map<std::string, uint64_t>{{"b2", 3}}));
}

TEST(CtrafficRecorder, ConnectFailureIsLostWithoutABackend) {
  CtrafficRecorder r;
  r.lost("", kLostConnectFailed);
  r.alive("b1", true);
  CtrafficSummary s = r.summary();
  EXPECT_EQ(s.lost_total, 1u);
  EXPECT_EQ(s.lost_by_reason.at("connect_failed"), 1u);
  EXPECT_TRUE(s.lost_by_backend.empty());
  EXPECT_TRUE(s.initial_backends.empty());
  EXPECT_EQ(s.reconnected, 1u);
  EXPECT_EQ(r.alive_count(), 1u);
}

TEST(CtrafficRecorder, JsonHasTheDocumentedSchema) {
  CtrafficRecorder r = scripted_run();
  r.take_sample(2.5, 0);  // a partial last second keeps its fraction
  auto j = r.to_json({"198.18.0.100:8080", 3, 10, 2.5});
  EXPECT_EQ(j["target"], "198.18.0.100:8080");
  EXPECT_EQ(j["connections"], 3);
  EXPECT_EQ(j["rate"], 10.0);
  EXPECT_EQ(j["duration_s"], 2.5);
  ASSERT_EQ(j["samples"].size(), 3u);
  EXPECT_TRUE(j["samples"][0]["t"].is_number_integer());
  EXPECT_EQ(j["samples"][0]["t"], 1);
  EXPECT_EQ(j["samples"][2]["t"], 2.5);
  for (const char* key : {"t", "alive", "lost", "lost_total", "reconnected_total", "connecting",
                          "sent", "answered", "backends"}) {
    EXPECT_TRUE(j["samples"][1].contains(key)) << key;
  }
  EXPECT_EQ(j["samples"][1]["backends"]["b2"], 2);
  const auto& s = j["summary"];
  for (const char* key : {"initial_backends", "lost_total", "lost_by_backend", "lost_by_reason",
                          "reconnected", "sent", "answered", "max_latency_ms", "final_backends"}) {
    EXPECT_TRUE(s.contains(key)) << key;
  }
  EXPECT_EQ(s["lost_by_backend"], nlohmann::ordered_json({{"b1", 2}}));
  EXPECT_EQ(s["lost_by_reason"]["eof"], 1);
  EXPECT_EQ(s["initial_backends"]["b1"], 2);
  EXPECT_FALSE(j.contains("interrupted"));
  auto stopped = r.to_json({"198.18.0.100:8080", 3, 10, 2.5, true});
  EXPECT_EQ(stopped["interrupted"], true);
  EXPECT_NE(r.summary_text({"198.18.0.100:8080", 3, 10, 2.5, true}).find("(stopped early)"),
            std::string::npos);
  // The file form round-trips through the parser.
  auto reparsed = nlohmann::json::parse(j.dump(1));
  EXPECT_EQ(reparsed["summary"]["lost_total"], 2);
}

TEST(CtrafficRecorder, TextSummaryAndProgressLine) {
  CtrafficRecorder r = scripted_run();
  std::string text = r.summary_text({"198.18.0.100:8080", 3, 10, 2});
  EXPECT_NE(text.find("lost: 2 (66.7% of 3)"), std::string::npos) << text;
  EXPECT_NE(text.find("by backend: b1=2"), std::string::npos) << text;
  EXPECT_NE(text.find("by reason: eof=1 reset=1"), std::string::npos) << text;
  EXPECT_NE(text.find("reconnected: 2"), std::string::npos) << text;
  EXPECT_NE(text.find("max 7.250 ms"), std::string::npos) << text;
  EXPECT_EQ(CtrafficRecorder::progress_line(r.samples()[1]),
            "t=2s alive=2 lost=2(+2) reconnected=1 connecting=1 sent=20 answered=18 b2=2");
}

}  // namespace
}  // namespace rail::traffic
