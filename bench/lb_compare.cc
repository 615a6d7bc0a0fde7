// rail_lb_compare: Rail against HAProxy (Debian package, TCP mode) in the same testbed shape
// (docs/testbed.md "Rail vs HAProxy"): connection rate and throughput client -> backends and
// back, measured in one run with the two balancers' trials interleaved, printed as a table of
// medians and their ratio, plus one JSON line. --smoke: a few seconds, asserting that both
// balancers deliver connections to every backend and move data both ways (ctest "scenario").
//
// Both testbeds are up at once (separate namespaces, the same address plan) and the trials
// alternate Rail, HAProxy, HAProxy, Rail, ... so that the load of the shared machine falls on
// both alike; medians, not means, because that load comes in bursts.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tools/demo/scenario.h"

namespace {

using namespace rail;
using namespace rail::testbed;
using json = nlohmann::json;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

const char* kUsage =
    "usage: rail_lb_compare [--connections N] [--parallel N] [--trials N] [--seconds S]\n"
    "                       [--streams N] [--bin-dir DIR] [--smoke]\n";

struct Options {
  int connections = 4000;  // rail-mconnect attempts per trial
  int parallel = 100;      // in flight at once
  int trials = 5;
  double seconds = 3;  // rail-tput measured time per direction and trial
  int streams = 4;     // rail-tput parallel TCP connections
  std::string bin_dir;
  bool smoke = false;
};

// One balancer's measurements, one entry per trial.
struct Samples {
  std::vector<double> conn_per_s, upload_bps, download_bps;
  long ok = 0, failed = 0;
  std::map<std::string, long> backends;  // connections per backend, all trials
  std::map<std::string, long> errors;    // failures by kind (mconnect and tput)
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

Topology shape(const std::string& name, Balancer balancer) {
  Topology t;  // the demo's shape: 2 balancer nodes, 4 backends, 1 client of 50 sources
  t.name = name;
  t.rail_nodes = 2;
  t.backends = 4;
  t.clients = 1;
  t.client_sources = 50;
  t.families = {Family::kV4};
  t.balancer = balancer;
  return t;
}

// One trial on one testbed: connection rate, then upload, then download.
Status trial(const Testbed& tb, const Options& o, Samples& s) {
  const std::string target = vip(Family::kV4).to_string() + ":" + std::to_string(tb.port());
  const std::string sources = tb.sources(1, Family::kV4);
  auto mc = run_tool_json(
      tb, "client1", "rail-mconnect",
      {"--target", target, "--connections", std::to_string(o.connections), "--parallel",
       std::to_string(o.parallel), "--sources", sources, "--timeout", "3s", "--json"});
  if (!mc) return mc.error();
  s.conn_per_s.push_back(mc->value("rate_per_s", 0.0));
  s.ok += mc->value("ok", 0L);
  s.failed += mc->value("failed", 0L);
  const json per_backend = mc->value("backends", json::object());
  for (const auto& [name, n] : per_backend.items()) s.backends[name] += n.get<long>();
  const json mc_errors = mc->value("errors", json::object());
  for (const auto& [kind, n] : mc_errors.items()) s.errors["connect " + kind] += n.get<long>();
  for (const char* direction : {"upload", "download"}) {
    char duration[32];
    std::snprintf(duration, sizeof(duration), "%gs", o.seconds);
    auto tp = run_tool_json(
        tb, "client1", "rail-tput",
        {"--target", target, "--direction", direction, "--streams", std::to_string(o.streams),
         "--duration", duration, "--sources", sources, "--json"});
    if (!tp) return tp.error();
    const json tp_errors = tp->value("errors", json::object());
    for (const auto& [kind, n] : tp_errors.items())
      s.errors[std::string(direction) + " " + kind] += n.get<long>();
    (direction[0] == 'u' ? s.upload_bps : s.download_bps).push_back(tp->value("bits_per_s", 0.0));
  }
  return ok();
}

std::string join(const std::vector<double>& v, double scale) {
  std::string out;
  char buf[32];
  for (double x : v) {
    std::snprintf(buf, sizeof(buf), "%.0f", x / scale);
    out += (out.empty() ? "" : " ") + std::string(buf);
  }
  return out;
}

// "2.6.12-1+deb12u4" from `haproxy -v`, or "?".
std::string haproxy_version() {
  auto r = run_status({"haproxy", "-v"});
  const std::string key = "version ";
  const size_t at = r ? r->output.find(key) : std::string::npos;
  if (at == std::string::npos) return "?";
  const size_t from = at + key.size();
  return r->output.substr(from, r->output.find(' ', from) - from);
}

void print_table(const Options& o, const Samples& rail, const Samples& hap,
                 const std::string& load_before, const std::string& load_after) {
  struct Row {
    std::string what;
    std::vector<double> rail, hap;
    double scale;
  };
  char conn_label[96], up_label[96], down_label[96];
  std::snprintf(conn_label, sizeof(conn_label), "connections/s (%d per trial, %d in flight)",
                o.connections, o.parallel);
  std::snprintf(up_label, sizeof(up_label), "upload client -> backends, Mbit/s (%d streams)",
                o.streams);
  std::snprintf(down_label, sizeof(down_label), "download backends -> client, Mbit/s (*)");
  const std::vector<Row> rows = {{conn_label, rail.conn_per_s, hap.conn_per_s, 1},
                                 {up_label, rail.upload_bps, hap.upload_bps, 1e6},
                                 {down_label, rail.download_bps, hap.download_bps, 1e6}};
  std::printf(
      "\nRail vs HAProxy %s (TCP mode): 2 balancer nodes, 4 backends, 1 client with 50 "
      "source addresses, IPv4 TCP\nthrough the testbed's ECMP router; medians of %d "
      "trials, the two balancers' trials interleaved; rail-tput %g s per direction\n"
      "load average before %s, after %s (shared machine: compare the ratio, not the "
      "absolute figures)\n\n",
      haproxy_version().c_str(), o.trials, o.seconds, load_before.c_str(), load_after.c_str());
  std::printf("%-50s %12s %12s %13s\n", "metric (median)", "Rail", "HAProxy", "Rail/HAProxy");
  for (const Row& r : rows) {
    const double a = median(r.rail) / r.scale, b = median(r.hap) / r.scale;
    std::printf("%-50s %12.0f %12.0f %12.2fx\n", r.what.c_str(), a, b, b > 0 ? a / b : 0.0);
  }
  std::printf("%-50s %12ld %12ld\n", "failed connections (all trials)", rail.failed, hap.failed);
  std::printf(
      "\n(*) download: with Rail the backends answer the client directly (direct server "
      "return), no balancer\n    on the path; with HAProxy every byte goes through the "
      "proxy. Upload crosses the balancer in both.\n\ntrials (in order):\n");
  const char* short_names[] = {"connections/s", "upload Mbit/s", "download Mbit/s"};
  for (size_t k = 0; k < rows.size(); ++k)
    std::printf("  %-16s Rail    %s\n  %-16s HAProxy %s\n", short_names[k],
                join(rows[k].rail, rows[k].scale).c_str(), "",
                join(rows[k].hap, rows[k].scale).c_str());
}

json to_json(const Samples& s) {
  return {{"conn_per_s", median(s.conn_per_s)},
          {"upload_bits_per_s", median(s.upload_bps)},
          {"download_bits_per_s", median(s.download_bps)},
          {"ok", s.ok},
          {"failed", s.failed},
          {"backends", s.backends},
          {"errors", s.errors},
          {"trials",
           {{"conn_per_s", s.conn_per_s},
            {"upload_bits_per_s", s.upload_bps},
            {"download_bits_per_s", s.download_bps}}}};
}

// The smoke run's assertions for one balancer; failures described in `why`.
bool delivered(const char* name, const Options& o, const Samples& s, std::string& why) {
  const size_t before = why.size();
  const long attempts = long(o.connections) * o.trials;
  if (s.ok * 100 < attempts * 95)
    why += std::string(name) + ": only " + std::to_string(s.ok) + " of " +
           std::to_string(attempts) + " connections answered; ";
  for (int j = 1; j <= 4; ++j)
    if (s.backends.count(Testbed::backend_role(j)) == 0)
      why += std::string(name) + ": no connection reached " + Testbed::backend_role(j) + "; ";
  if (median(s.upload_bps) <= 0) why += std::string(name) + ": no upload throughput; ";
  if (median(s.download_bps) <= 0) why += std::string(name) + ": no download throughput; ";
  return why.size() == before;
}

int usage(const std::string& message) {
  std::fprintf(stderr, "rail_lb_compare: error: %s\n%s", message.c_str(), kUsage);
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  StopSignals stop;  // first: every thread inherits the blocked mask
  Options o;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--smoke") {
      o.smoke = true;
      o.connections = 200;
      o.parallel = 50;
      o.trials = 1;
      o.seconds = 0.5;
      o.streams = 2;
      continue;
    }
    if (a + 1 >= argc) return usage(arg + " needs a value or is unknown");
    const std::string value = argv[++a];
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    const bool numeric = !value.empty() && *end == '\0' && number > 0 && number <= 1e6;
    if (arg == "--bin-dir") {
      o.bin_dir = value;
    } else if (!numeric) {
      return usage(arg + ": unknown option or not a positive number: " + value);
    } else if (arg == "--connections") {
      o.connections = int(number);
    } else if (arg == "--parallel") {
      o.parallel = int(number);
    } else if (arg == "--trials") {
      o.trials = int(number);
    } else if (arg == "--seconds") {
      o.seconds = number;
    } else if (arg == "--streams") {
      o.streams = int(number);
    } else {
      return usage("unknown option " + arg);
    }
  }
  if (o.connections < 1 || o.parallel < 1 || o.trials < 1 || o.streams < 1)
    return usage("counts must be at least 1");

  UpOptions up;
  up.bin_dir = o.bin_dir;
  up.ready_timeout = std::chrono::seconds(30);
  const std::string prefix = o.smoke ? "lbs" : "lbc";
  std::fprintf(stderr, "rail_lb_compare: bringing up %srail (Rail) and %shap (HAProxy)\n",
               prefix.c_str(), prefix.c_str());
  auto rail_tb = Testbed::up(shape(prefix + "rail", Balancer::kRail), up);
  if (!rail_tb) {
    std::fprintf(stderr, "rail_lb_compare: error: %s\n", rail_tb.error().message.c_str());
    return kExitFailed;
  }
  auto hap_tb = Testbed::up(shape(prefix + "hap", Balancer::kHaproxy), up);
  if (!hap_tb) {
    std::fprintf(stderr, "rail_lb_compare: error: %s\n", hap_tb.error().message.c_str());
    return kExitFailed;
  }
  const std::string load_before = load_average();
  Samples rail, hap;
  for (int k = 0; k < o.trials; ++k) {
    // Alternate which balancer goes first, so neither always runs right after the other.
    for (int which : k % 2 == 0 ? std::vector<int>{0, 1} : std::vector<int>{1, 0}) {
      if (stop.pending()) {
        std::fprintf(stderr, "rail_lb_compare: interrupted; tearing down\n");
        return 130;
      }
      std::fprintf(stderr, "rail_lb_compare: trial %d/%d: %s\n", k + 1, o.trials,
                   which == 0 ? "Rail" : "HAProxy");
      Status st = trial(which == 0 ? *rail_tb : *hap_tb, o, which == 0 ? rail : hap);
      if (!st) {
        std::fprintf(stderr, "rail_lb_compare: error: %s\n", st.error().message.c_str());
        return kExitFailed;
      }
    }
  }
  const std::string load_after = load_average();
  print_table(o, rail, hap, load_before, load_after);
  auto ratio = [](const std::vector<double>& a, const std::vector<double>& b) {
    return median(b) > 0 ? median(a) / median(b) : 0.0;
  };
  const json line = {
      {"bench", "lb_compare"},
      {"smoke", o.smoke},
      {"trials", o.trials},
      {"connections", o.connections},
      {"parallel", o.parallel},
      {"tput_seconds", o.seconds},
      {"streams", o.streams},
      {"load_before", load_before},
      {"load_after", load_after},
      {"download_path", {{"rail", "direct server return"}, {"haproxy", "through the proxy"}}},
      {"rail", to_json(rail)},
      {"haproxy", to_json(hap)},
      {"ratio",
       {{"conn_per_s", ratio(rail.conn_per_s, hap.conn_per_s)},
        {"upload", ratio(rail.upload_bps, hap.upload_bps)},
        {"download", ratio(rail.download_bps, hap.download_bps)}}}};
  std::printf("\n%s\n", line.dump().c_str());
  if (o.smoke) {
    std::string why;
    const bool good = delivered("Rail", o, rail, why) & delivered("HAProxy", o, hap, why);
    if (!good) {
      std::fprintf(stderr, "rail_lb_compare: smoke: FAILED: %s\n", why.c_str());
      return kExitFailed;
    }
    std::printf("smoke: both balancers reached all 4 backends and moved data both ways\n");
  }
  return 0;
}
