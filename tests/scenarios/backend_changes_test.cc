// Scenarios of backend changes (issue 5, docs/scenarios.md): the spread of new connections,
// scale in, scale out, drain and a backend failure found by health checks, each measured with
// real connections through 2 Rail nodes to 10 backends and printed as a SCENARIO line.
#include <cmath>
#include <set>

#include "scenario_fixture.h"

namespace rail::scenario {
namespace {

class BackendChanges : public ScenarioSuite<BackendChanges> {
 public:
  // 2 Rail nodes, 10 backends, 100 client source addresses; IPv4 (the IPv6 variants are
  // another suite's). Checks: TCP every 200 ms, timeout 200 ms, fall 2 (the testbed default).
  static std::string topology_yaml() {
    return "name: scback\nrail_nodes: 2\nbackends: 10\nclients: 1\nclient_sources: 100\n"
           "families: [ipv4]\n"
           "check: { type: tcp, interval: 200ms, timeout: 200ms, rise: 1, fall: 2 }\n";
  }

 protected:
  static constexpr Family kV4 = Family::kV4;

  // railctl ARGS POOL ADDRESS(j) on every node.
  void on_every_node(const std::string& command, int j) {
    auto r = tb().railctl(0, {command, Testbed::pool(kV4), address(j, kV4)});
    ASSERT_TRUE(r) << command << " b" << j << ": " << r.error().describe();
  }
  void remove_backend(int j) { on_every_node("remove-backend", j); }
  void add_backend(int j) {
    auto r = tb().railctl(0, {"add-backend", Testbed::pool(kV4), address(j, kV4), "--name",
                              Testbed::backend_role(j)});
    ASSERT_TRUE(r) << "add-backend b" << j << ": " << r.error().describe();
  }

  // Starts 100 connections at 10 messages/s each and waits for 3 s of loss-free traffic.
  CtrafficRun start_traffic() {
    auto run = CtrafficRun::start(tb(), out_dir(), CtrafficOptions{});
    EXPECT_TRUE(run) << run.error().describe();
    if (!run) return CtrafficRun();
    std::string why;
    EXPECT_TRUE(run->wait_steady(milliseconds(3000), milliseconds(20000), &why)) << why;
    return std::move(*run);
  }

  // The Maglev prediction over the backends 1..M minus `excluded`.
  MaglevPrediction prediction(const std::set<int>& excluded) {
    std::vector<int> eligible;
    for (int j = 1; j <= backends(); ++j)
      if (!excluded.count(j)) eligible.push_back(j);
    auto p = MaglevPrediction::build(topo(), eligible);
    EXPECT_TRUE(p) << p.error().describe();
    return *p;
  }

  // Runs `n` mconnect connections and checks each answer against the prediction without
  // `excluded`: every attempt answered, every answer the predicted backend.
  json connect_and_predict(const std::string& tag, int n, const std::set<int>& excluded,
                           int* predicted) {
    auto m = run_mconnect(tb(), out_dir(), tag, kV4, n);
    EXPECT_TRUE(m) << m.error().describe();
    if (!m) return json();
    EXPECT_EQ((*m)["ok"], n) << "errors: " << (*m)["errors"].dump();
    std::string mismatches;
    *predicted = count_predicted(*m, prediction(excluded), tb().vip(kV4), tb().port(), &mismatches);
    EXPECT_EQ(*predicted, n) << "answers not on Maglev's predicted backend:\n" << mismatches;
    return *m;
  }

  // The ctraffic summary and its per-backend count (0 if absent).
  static int64_t count(const json& object, int j) {
    return object.value(Testbed::backend_role(j), int64_t(0));
  }
};

// 1000 new connections from 100 source addresses through 2 Rail nodes: every one answered,
// on exactly the backend the core library's Maglev table + flow hash predicts.
TEST_F(BackendChanges, Spread) {
  std::vector<int64_t> flows_before(3);
  for (int i = 1; i <= 2; ++i)
    flows_before[i] = tb().api_get(i, "/v1/vips/tcp4")->value("new_flows", 0);

  const int n = 1000;
  int predicted = 0;
  json m = connect_and_predict("spread", n, {}, &predicted);
  ASSERT_FALSE(m.is_null());

  // Per-backend counts. Each backend holds ~1/10 of the 65537 entries (Maglev max/avg 1.007,
  // so p is within 0.0993..0.1007) and the source ports are the kernel's (random), so a
  // backend's count is binomial(1000, p): mean 100 +- 0.7, sd sqrt(1000 * 0.1 * 0.9) = 9.5.
  // 4 sd = 38: a backend outside [100 - 39, 100 + 39] has probability < 1e-4 per backend.
  // (The exact check above is the strong one: this bound only guards the spread's shape.)
  const double sd = std::sqrt(n * 0.1 * 0.9), slack = 4 * sd + 1;
  int64_t lo = n, hi = 0;
  for (int j = 1; j <= backends(); ++j) {
    const int64_t c = count(m["backends"], j);
    EXPECT_GT(c, 0) << "b" << j << " got no connection: " << m["backends"].dump();
    EXPECT_NEAR(double(c), n / 10.0, slack) << "b" << j << ": " << m["backends"].dump();
    lo = std::min(lo, c);
    hi = std::max(hi, c);
  }
  EXPECT_EQ(m["backends"].size(), size_t(backends())) << m["backends"].dump();

  // Both Rail nodes took part (router ECMP by L4 hash over the 2 nodes: ~500 each; a node
  // under 250 would mean the router's spreading is broken, not chance).
  std::vector<int64_t> took(3);
  for (int i = 1; i <= 2; ++i) {
    took[i] = tb().api_get(i, "/v1/vips/tcp4")->value("new_flows", 0) - flows_before[i];
    EXPECT_GE(took[i], 250) << "rail" << i;
  }
  print_scenario(
      "spread",
      {{"connections", std::to_string(n)},
       {"answered", std::to_string(m["ok"].get<int>())},
       {"backends", std::to_string(m["backends"].size())},
       {"min", std::to_string(lo)},
       {"max", std::to_string(hi)},
       {"max/avg", fmt("%.2f", double(hi) / (n / 10.0))},
       {"bound", "[" + fmt("%.0f", n / 10.0 - slack) + "," + fmt("%.0f", n / 10.0 + slack) + "]"},
       {"predicted_exact", std::to_string(predicted) + "/" + std::to_string(n)},
       {"rail1_new_flows", std::to_string(took[1])},
       {"rail2_new_flows", std::to_string(took[2])}});
}

}  // namespace
}  // namespace rail::scenario
