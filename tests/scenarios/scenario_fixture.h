// Shared fixture of the scenario tests (issue 5, docs/scenarios.md): one testbed per test
// suite, rail-ctraffic/rail-mconnect runs in a client namespace with their artifacts under
// the build dir, raild state checks, Maglev predictions, and the SCENARIO summary lines.
//
// Use: derive a suite from ScenarioSuite<Derived> with `static std::string topology_yaml()`;
// the testbed comes up once in SetUpTestSuite and every test starts from the baseline (every
// backend in its pool, weight 1, not drained or forced, server running, up on every node; every
// node active). Artifacts: RAIL_SCENARIO_OUT_DIR/<Suite>.<Test>/ (ctraffic.json, .svg, .log).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/flow/flow_hash.h"
#include "core/flow/flow_key.h"
#include "core/maglev/maglev_table.h"
#include "tools/testbed/testbed.h"

#ifndef RAIL_SCENARIO_OUT_DIR
#define RAIL_SCENARIO_OUT_DIR "/tmp/rail-scenario-out"
#endif

namespace rail::scenario {

using testbed::Family;
using testbed::Testbed;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "SCENARIO name: k=v k=v ..." on stdout: the machine-greppable result line quoted by the
// README's scenario table. Values are printed as given (format them before).
inline void print_scenario(const std::string& name,
                           const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string line = "SCENARIO " + name + ":";
  for (const auto& [k, v] : fields) line += " " + k + "=" + v;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

inline std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, value);
  return buf;
}

// The current test's artifact directory, created empty: OUT/<Suite>.<Test>.
inline std::string test_output_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string dir =
      std::string(RAIL_SCENARIO_OUT_DIR) + "/" + info->test_suite_name() + "." + info->name();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  return dir;
}

// Sum of a JSON object's integer values (e.g. lost_by_backend).
inline int64_t sum_values(const json& object) {
  int64_t n = 0;
  for (const auto& [k, v] : object.items()) n += v.get<int64_t>();
  return n;
}

inline std::string describe(const json& object) {
  return object.dump();
}

// ---- raild's view -------------------------------------------------------------------------

// Backend j's entry in VIP `vip` on node i (null json when missing or the API failed).
inline json backend_view(const Testbed& tb, int node, const std::string& vip, int j) {
  auto v = tb.api_get(node, "/v1/vips/" + vip);
  if (!v) return json();
  for (const auto& b : (*v)["backends"])
    if (b.value("name", "") == Testbed::backend_role(j)) return b;
  return json();
}

// ---- rail-ctraffic in the background --------------------------------------------------------

struct CtrafficOptions {
  Family family = Family::kV4;
  int client = 1;
  int connections = 100;
  double rate = 10;            // messages/s per connection
  std::string timeout = "3s";  // generous: a slow scheduler must not count as a loss
  std::string connect_timeout = "5s";
  std::string max_duration = "120s";   // the test stops it earlier with the stop file
  std::string reconnect_delay = "0s";  // --reconnect-delay
};

// One rail-ctraffic run: started in a client namespace, stopped with its stop file, its JSON
// parsed. Progress lines (stderr) go to ctraffic.log, read while it runs.
class CtrafficRun {
 public:
  static Result<CtrafficRun> start(Testbed& tb, const std::string& out_dir,
                                   const CtrafficOptions& o) {
    CtrafficRun run;
    run.out_dir_ = out_dir;
    run.connections_ = o.connections;
    const std::string vip = tb.vip(o.family).to_string();
    const std::string target = o.family == Family::kV4
                                   ? vip + ":" + std::to_string(tb.port())
                                   : "[" + vip + "]:" + std::to_string(tb.port());
    auto p = tb.spawn("client" + std::to_string(o.client),
                      {tb.binary("rail-ctraffic"),
                       "--target",
                       target,
                       "--connections",
                       std::to_string(o.connections),
                       "--rate",
                       fmt("%g", o.rate),
                       "--duration",
                       o.max_duration,
                       "--timeout",
                       o.timeout,
                       "--connect-timeout",
                       o.connect_timeout,
                       "--reconnect-delay",
                       o.reconnect_delay,
                       "--sources",
                       tb.sources(o.client, o.family),
                       "--json-out",
                       run.json_path(),
                       "--svg-out",
                       out_dir + "/ctraffic.svg",
                       "--progress",
                       "--stop-file",
                       run.stop_path()},
                      run.log_path());
    if (!p) return p.error();
    run.process_ = std::move(*p);
    return run;
  }

  std::string json_path() const { return out_dir_ + "/ctraffic.json"; }
  std::string log_path() const { return out_dir_ + "/ctraffic.log"; }
  std::string stop_path() const { return out_dir_ + "/stop"; }

  // The last progress line ("t=3s alive=100 lost=0(+0) ... b1=9 b2=11"), "" before the first.
  std::string last_progress() const {
    const std::string log = read_file(log_path());
    size_t at = log.rfind("\nt=");
    if (at == std::string::npos)
      return log.rfind("t=", 0) == 0 ? log.substr(0, log.find('\n')) : "";
    size_t end = log.find('\n', at + 1);
    return log.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
  }

  // A numeric field of the last progress line ("alive", "lost"...), -1 if absent.
  int progress_field(const std::string& key) const {
    const std::string line = last_progress();
    size_t at = line.find(" " + key + "=");
    if (at == std::string::npos) return -1;
    return std::atoi(line.c_str() + at + key.size() + 2);
  }

  // Waits until every connection is alive (answered) in a progress line, then `steady` more
  // while none is lost. False (with the log's tail in `why`) if not within `limit`.
  bool wait_steady(milliseconds steady, milliseconds limit, std::string* why) {
    const bool all_alive = testbed::wait_until(
        [&] { return progress_field("alive") == connections_ || !process_.running(); }, limit,
        milliseconds(100));
    if (!all_alive || !process_.running()) {
      *why = "ctraffic not steady: " + last_progress() + "\nlog:\n" + read_file(log_path());
      return false;
    }
    std::this_thread::sleep_for(steady);
    if (progress_field("lost") != 0 || progress_field("alive") != connections_) {
      *why = "losses before the action: " + last_progress();
      return false;
    }
    return true;
  }

  // After an action that loses connections: waits until a progress line shows losses and
  // every slot alive again (reconnected). False if not within `limit`.
  bool wait_recovered(milliseconds limit) {
    return testbed::wait_until(
        [&] { return progress_field("lost") > 0 && progress_field("alive") == connections_; },
        limit, milliseconds(100));
  }

  // Ends the run (stop file), waits for it to write its JSON and returns it.
  Result<json> finish() {
    { std::ofstream(stop_path()) << "stop\n"; }
    auto status = process_.wait(milliseconds(15000));
    if (!status) {
      process_.terminate();
      return make_error(ErrorCode::kSystem,
                        "rail-ctraffic did not stop; log:\n" + read_file(log_path()));
    }
    if (*status != 0)
      return make_error(ErrorCode::kSystem, "rail-ctraffic exited " + std::to_string(*status) +
                                                "; log:\n" + read_file(log_path()));
    json j = json::parse(read_file(json_path()), nullptr, false);
    if (j.is_discarded() || !j.contains("summary"))
      return make_error(ErrorCode::kSystem, "unreadable " + json_path());
    return j;
  }

 private:
  std::string out_dir_;
  int connections_ = 0;
  testbed::Process process_;
};

// ---- rail-mconnect --------------------------------------------------------------------------

// Runs rail-mconnect --json --details in a client namespace (to completion) and returns its
// JSON; stdout/stderr kept in OUT/mconnect-<tag>.json / .err.
inline Result<json> run_mconnect(const Testbed& tb, const std::string& out_dir,
                                 const std::string& tag, Family family, int connections,
                                 int client = 1) {
  const std::string vip = tb.vip(family).to_string();
  const std::string target = family == Family::kV4 ? vip + ":" + std::to_string(tb.port())
                                                   : "[" + vip + "]:" + std::to_string(tb.port());
  const std::string out = out_dir + "/mconnect-" + tag + ".json";
  const std::string err = out_dir + "/mconnect-" + tag + ".err";
  // --timeout 5s: a loaded scheduler must not turn into failures; --parallel 50 keeps the
  // SYN burst modest. The exit status is ignored here: the JSON says what failed.
  auto r = tb.exec("client" + std::to_string(client),
                   tb.binary("rail-mconnect") + " --target '" + target + "' --connections " +
                       std::to_string(connections) + " --parallel 50 --timeout 5s --sources " +
                       tb.sources(client, family) + " --json --details > " + out + " 2> " + err +
                       "; true");
  if (!r) return r.error();
  json j = json::parse(read_file(out), nullptr, false);
  if (j.is_discarded())
    return make_error(ErrorCode::kSystem, "rail-mconnect gave no JSON: " + read_file(err));
  return j;
}

// ---- Maglev prediction ---------------------------------------------------------------------

// What every Rail node computes for the testbed's VIPs: the Maglev table over the backends
// named b1..bM (their identity in raild's config, weight 1), with the default cluster hash seed
// (the testbed's rail.yaml sets none) and the topology's table size. A backend absent from
// `eligible` has no entries (removed, drained or down).
class MaglevPrediction {
 public:
  static Result<MaglevPrediction> build(const testbed::Topology& topo,
                                        const std::vector<int>& eligible) {
    MaglevPrediction p;
    for (int j : eligible) p.backends_.push_back({Testbed::backend_role(j), 1, BackendState::kUp});
    auto table = MaglevTable::build(p.backends_, topo.table_size);
    if (!table) return table.error();
    p.table_ = std::make_shared<MaglevTable>(std::move(*table));
    return p;
  }

  // The backend name ("b3") a TCP flow from `local` to vip:port lands on.
  std::string backend_for(const IpAddress& source, uint16_t sport, const IpAddress& vip,
                          uint16_t port) const {
    auto key = FlowKey::make(source, vip, sport, port, packet::kIpProtoTcp);
    if (!key) return "?";
    uint32_t index = table_->lookup(flow_hash_5tuple(*key, kDefaultHashSeed));
    return index == kNoBackend ? "none" : backends_[index].identity;
  }

 private:
  std::vector<MaglevBackend> backends_;
  std::shared_ptr<MaglevTable> table_;
};

// Checks every answered attempt of an mconnect --details JSON against the prediction. The
// number of answers that match; `mismatches` gets the first few that do not.
inline int count_predicted(const json& mconnect, const MaglevPrediction& prediction,
                           const IpAddress& vip, uint16_t port, std::string* mismatches) {
  int matched = 0, shown = 0;
  for (const auto& d : mconnect["details"]) {
    if (!d.contains("backend")) continue;
    const std::string local = d["local"].get<std::string>();
    const size_t colon = local.rfind(':');
    std::string host = local.substr(0, colon);
    if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
    auto source = IpAddress::parse(host);
    const uint16_t sport = uint16_t(std::atoi(local.c_str() + colon + 1));
    const std::string expected =
        source ? prediction.backend_for(*source, sport, vip, port) : std::string("?");
    if (expected == d["backend"].get<std::string>()) {
      ++matched;
    } else if (shown++ < 5) {
      *mismatches += local + " answered by " + d["backend"].get<std::string>() + ", predicted " +
                     expected + "\n";
    }
  }
  return matched;
}

// ---- the suite -----------------------------------------------------------------------------

// One testbed for every test of the suite Derived (Derived::topology_yaml()); each test starts
// from the baseline (reset() in SetUp).
template <typename Derived>
class ScenarioSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto topo = testbed::parse_topology(Derived::topology_yaml(), "scenario.yaml");
    if (!topo) {
      up_error() = topo.error().describe();
      return;
    }
    testbed::UpOptions o;
    o.progress = [](const std::string& line) { std::printf("[ testbed  ] %s\n", line.c_str()); };
    o.ready_timeout = milliseconds(60000);  // a loaded box: 10 backends x checks on 2+ nodes
    const auto start = Clock::now();
    auto tb = Testbed::up(*topo, o);
    if (!tb) {
      up_error() = tb.error().describe();
      return;
    }
    std::printf("[ testbed  ] up in %.2f s\n", seconds_since(start));
    testbed_slot() = std::make_unique<Testbed>(std::move(*tb));
  }
  static void TearDownTestSuite() { testbed_slot().reset(); }

  void SetUp() override {
    ASSERT_TRUE(testbed_slot()) << "testbed did not come up: " << up_error();
    out_dir_ = test_output_dir();
    std::string why;
    ASSERT_TRUE(reset(&why)) << "cannot restore the baseline: " << why;
  }

  Testbed& tb() { return *testbed_slot(); }
  const testbed::Topology& topo() { return tb().topology(); }
  int backends() { return topo().backends; }
  int nodes() { return topo().rail_nodes; }
  const std::string& out_dir() const { return out_dir_; }

  // Backend j's address in a family, as text (what railctl takes).
  static std::string address(int j, Family f) { return testbed::backend_address(j, f).to_string(); }

  // True once every VIP of the testbed shows backend j with `state` on every active node.
  bool backend_state_everywhere(int j, const std::string& state) {
    for (int i = 1; i <= nodes(); ++i) {
      if (!tb().node_active(i)) continue;
      for (Family f : topo().families)
        for (bool udp : {false, true})
          if (backend_view(tb(), i, Testbed::vip_name(f, udp), j).value("state", "") != state)
            return false;
    }
    return true;
  }

  // Baseline: every node active, every backend present (identity bJ, weight 1), not drained
  // or forced, its server running, and up in every VIP on every node.
  bool reset(std::string* why) {
    for (int i = 1; i <= nodes(); ++i) {
      if (!tb().node_active(i)) {
        if (auto st = tb().start_rail_node(i); !st) return *why = st.error().describe(), false;
      }
    }
    for (int j = 1; j <= backends(); ++j) {
      for (Family f : topo().families) {
        const std::string pool = Testbed::pool(f), addr = address(j, f);
        for (int i = 1; i <= nodes(); ++i) {
          json b = backend_view(tb(), i, Testbed::vip_name(f, false), j);
          std::vector<std::vector<std::string>> fixes;
          if (b.is_null()) {
            fixes.push_back({"add-backend", pool, addr, "--name", Testbed::backend_role(j)});
          } else {
            if (b.value("drained", false)) fixes.push_back({"undrain", pool, addr});
            if (!b["forced"].is_null()) fixes.push_back({"force", pool, addr, "none"});
            if (b.value("weight", 1) != 1) fixes.push_back({"weight", pool, addr, "1"});
          }
          for (const auto& args : fixes)
            if (auto r = tb().railctl(i, args); !r) return *why = r.error().describe(), false;
        }
      }
    }
    for (int j = 1; j <= backends(); ++j)  // a no-op for a running server
      if (auto st = tb().start_backend(j); !st) return *why = st.error().describe(), false;
    const bool up = testbed::wait_until(
        [&] {
          for (int j = 1; j <= backends(); ++j)
            if (!backend_state_everywhere(j, "up")) return false;
          return true;
        },
        milliseconds(20000), milliseconds(100));
    if (!up) *why = "not every backend is up on every node within 20 s";
    return up;
  }

 private:
  static std::unique_ptr<Testbed>& testbed_slot() {
    static std::unique_ptr<Testbed> slot;
    return slot;
  }
  static std::string& up_error() {
    static std::string error;
    return error;
  }
  std::string out_dir_;
};

}  // namespace rail::scenario
