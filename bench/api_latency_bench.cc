// rail_api_latency_bench: time from a runtime API call to the XDP program forwarding with the
// new table (issue #4), for one VIP of 1000 backends (M = 65537). Needs root (loads the BPF).
//
// A Controller over the real XdpDataPlane (loaded, not attached) and the ApiServer on
// 127.0.0.1. Each change is a drain or undrain of backend X through real HTTP; X is the
// backend of a probe flow, so every change moves that flow. For each change: t0 before the
// request; after the response, a SYN of the probe flow is run through the program
// (BPF_PROG_TEST_RUN) until its output goes to the expected backend (X after undrain, not X
// after drain); t1 then. The state file's fsyncs are inside the request, so the run is made
// with the state file on tmpfs (/dev/shm) and on disk (/tmp) unless --state-dir says one.
//
//   rail_api_latency_bench [--changes N] [--backends N] [--state-dir DIR]... [--json]
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bpf/test_run.h"
#include "core/result.h"
#include "daemon/api/api_server.h"
#include "daemon/config/yaml_loader.h"
#include "daemon/controller/controller.h"
#include "daemon/controller/next_hop_resolver.h"
#include "dataplane/xdp_data_plane.h"
#include "golden/golden_world.h"

namespace rail::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int changes = 200;
  int backends = 1000;
  bool json = false;
  std::vector<std::string> state_dirs;
};

struct Summary {
  double median = 0, p90 = 0, p99 = 0, max = 0;  // ms
};

struct Scenario {
  std::string state_dir;
  Summary to_forwarding;    // t1 - t0: API call to the program forwarding with the new table
  Summary http;             // HTTP round trip (includes apply and the state file's fsyncs)
  Summary apply;            // the Controller's last apply latency (translate + DataPlane::apply)
  int first_poll_hits = 0;  // changes already visible at the first poll after the response
  int max_polls = 0;
};

double ms_since(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// Nearest-rank percentiles of `v` (sorted here).
Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) {
    size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
  };
  s.median = rank(0.5);
  s.p90 = rank(0.9);
  s.p99 = rank(0.99);
  s.max = v.back();
  return s;
}

IpAddress backend_address(int i) {
  return golden::ip("198.18." + std::to_string(10 + i / 250) + "." + std::to_string(1 + i % 250));
}

std::string config_yaml(const std::string& dir, int backends) {
  std::string list;
  for (int i = 0; i < backends; ++i) list += (i ? ", " : "") + backend_address(i).to_string();
  return "node:\n"
         "  interfaces: [veth0]\n"
         "  mac: 02:00:00:00:0b:01\n"
         "  outer_source_v4: 198.18.0.1\n"
         "  state_file: " +
         dir +
         "/running.yaml\n"
         "pools:\n"
         "  - name: web\n"
         "    backends: [" +
         list +
         "]\n"
         "    check: { type: none }\n"
         "vips:\n"
         "  - name: www\n"
         "    address: 198.18.100.1\n"
         "    port: 80\n"
         "    pool: web\n"
         "    table_size: 65537\n";
}

// The outer IPv4 destination of a TX'd GRE frame (the backend), or nullopt.
std::optional<IpAddress> run_probe(int prog_fd, const golden::Bytes& frame) {
  auto r = bpftest::test_run(prog_fd, frame);
  if (!r || r->retval != 3 /* XDP_TX */ || r->output.size() < 34) return std::nullopt;
  const auto& o = r->output;
  if (o[12] != 0x08 || o[13] != 0x00) return std::nullopt;
  char text[32];
  std::snprintf(text, sizeof text, "%u.%u.%u.%u", o[30], o[31], o[32], o[33]);
  auto a = IpAddress::parse(text);
  if (!a) return std::nullopt;
  return *a;
}

golden::Bytes syn_frame(uint16_t sport) {
  return golden::from_router(
      golden::tcp4(golden::ip("198.18.200.1"), sport, golden::ip("198.18.100.1"), 80)
          .syn()
          .build());
}

Result<Scenario> run_scenario(dataplane::XdpDataPlane& plane, const std::string& base,
                              const Options& o) {
  std::string templ = base + "/rail-apibench-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr)
    return make_error(ErrorCode::kSystem, "mkdtemp in " + base + ": " + std::strerror(errno));
  const std::string dir = templ;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};

  const std::string config_path = dir + "/rail.yaml";
  std::ofstream(config_path) << config_yaml(dir, o.backends);
  auto config = daemon::load_config_file(config_path);
  if (!config) return config.error();
  daemon::FixedNextHops macs;
  for (int i = 0; i < o.backends; ++i)
    macs.set(backend_address(i), golden::mac("02:00:00:00:0c:01"));
  daemon::EventLog log(daemon::LogLevel::kError,
                       [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  daemon::ControllerOptions copts;
  copts.config_path = config_path;
  copts.health_checks = false;
  copts.persist = true;
  auto controller = daemon::Controller::create(*config, {}, plane, macs, log, copts);
  if (!controller) return controller.error();
  daemon::ApiOptions aopts;
  aopts.port = 0;
  auto server = daemon::ApiServer::start(aopts, **controller, log);
  if (!server) return server.error();
  httplib::Client client("127.0.0.1", (*server)->port());

  // The probe flow and its backend X under the full table.
  const golden::Bytes frame = syn_frame(40000);
  const auto x = run_probe(plane.prog_fd(), frame);
  if (!x) return make_error(ErrorCode::kInternal, "the probe SYN was not forwarded");
  const std::string path = "/v1/pools/web/backends/" + x->to_string();

  std::vector<double> total, http, apply;
  Scenario s;
  s.state_dir = base;
  for (int i = 0; i < o.changes; ++i) {
    const bool drain = i % 2 == 0;
    const auto t0 = Clock::now();
    auto r = client.Post(path + (drain ? "/drain" : "/undrain"), "", "application/json");
    const auto t_http = Clock::now();
    if (!r || r->status != 200)
      return make_error(ErrorCode::kSystem, "change " + std::to_string(i) + " failed: " +
                                                (r ? r->body : httplib::to_string(r.error())));
    int polls = 0;
    for (;;) {
      ++polls;
      const auto b = run_probe(plane.prog_fd(), frame);
      if (b && (drain ? *b != *x : *b == *x)) break;
      if (ms_since(t0, Clock::now()) > 5000)
        return make_error(ErrorCode::kInternal,
                          "change " + std::to_string(i) + " not visible after 5 s");
    }
    const auto t1 = Clock::now();
    total.push_back(ms_since(t0, t1));
    http.push_back(ms_since(t0, t_http));
    apply.push_back((*controller)->node().last_apply_seconds * 1000.0);
    if (polls == 1) ++s.first_poll_hits;
    s.max_polls = std::max(s.max_polls, polls);
  }
  s.to_forwarding = summarize(total);
  s.http = summarize(http);
  s.apply = summarize(apply);
  return s;
}

void print_table(const std::vector<Scenario>& all, const Options& o) {
  std::printf("API -> data plane latency: 1 VIP, %d backends, M=65537, %d drain/undrain changes\n",
              o.backends, o.changes);
  std::printf("%-10s %-22s %9s %9s %9s %9s\n", "state dir", "measure (ms)", "median", "p90", "p99",
              "max");
  for (const Scenario& s : all) {
    auto row = [&](const char* name, const Summary& m) {
      std::printf("%-10s %-22s %9.3f %9.3f %9.3f %9.3f\n", s.state_dir.c_str(), name, m.median,
                  m.p90, m.p99, m.max);
    };
    row("api->forwarding", s.to_forwarding);
    row("http round trip", s.http);
    row("controller apply", s.apply);
    std::printf(
        "%-10s first poll saw the new table: %d/%d (max polls %d); target p99 < 10 ms: %s\n",
        s.state_dir.c_str(), s.first_poll_hits, o.changes, s.max_polls,
        s.to_forwarding.p99 < 10.0 ? "PASS" : "MISS");
  }
}

void print_json(const std::vector<Scenario>& all, const Options& o) {
  auto obj = [](const Summary& m) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "{\"median\": %.4f, \"p90\": %.4f, \"p99\": %.4f, \"max\": %.4f}", m.median,
                  m.p90, m.p99, m.max);
    return std::string(buf);
  };
  std::printf("{\"backends\": %d, \"table_size\": 65537, \"changes\": %d, \"target_p99_ms\": 10,\n",
              o.backends, o.changes);
  std::printf(" \"scenarios\": [\n");
  for (size_t i = 0; i < all.size(); ++i) {
    const Scenario& s = all[i];
    std::printf(
        "  {\"state_dir\": \"%s\", \"api_to_forwarding_ms\": %s,\n   \"http_ms\": %s,\n"
        "   \"apply_ms\": %s, \"first_poll_hits\": %d, \"max_polls\": %d}%s\n",
        s.state_dir.c_str(), obj(s.to_forwarding).c_str(), obj(s.http).c_str(),
        obj(s.apply).c_str(), s.first_poll_hits, s.max_polls, i + 1 < all.size() ? "," : "");
  }
  std::printf("]}\n");
}

Result<Options> parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> Result<std::string> {
      if (i + 1 >= argc) return make_error(ErrorCode::kInvalidArgument, a + " needs a value");
      return std::string(argv[++i]);
    };
    if (a == "--json") {
      o.json = true;
    } else if (a == "--changes" || a == "--backends" || a == "--state-dir") {
      auto v = next();
      if (!v) return v.error();
      if (a == "--state-dir") {
        o.state_dirs.push_back(*v);
        continue;
      }
      const int n = std::atoi(v->c_str());
      if (n < 2 || n > 100000)
        return make_error(ErrorCode::kInvalidArgument, a + ": 2..100000, not " + *v);
      (a == "--changes" ? o.changes : o.backends) = n;
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "usage: rail_api_latency_bench [--changes N] [--backends N] "
                        "[--state-dir DIR]... [--json]");
    }
  }
  if (o.state_dirs.empty()) o.state_dirs = {"/dev/shm", "/tmp"};
  return o;
}

int run(int argc, char** argv) {
  auto o = parse_args(argc, argv);
  if (!o) {
    std::fprintf(stderr, "%s\n", o.error().message.c_str());
    return 2;
  }
  auto plane = dataplane::XdpDataPlane::load();
  if (!plane) {
    std::fprintf(stderr, "XdpDataPlane::load: %s (run as root)\n",
                 plane.error().describe().c_str());
    return 1;
  }
  std::vector<Scenario> all;
  for (const std::string& dir : o->state_dirs) {
    auto s = run_scenario(**plane, dir, *o);
    if (!s) {
      std::fprintf(stderr, "%s: %s\n", dir.c_str(), s.error().describe().c_str());
      return 1;
    }
    all.push_back(*s);
  }
  if (o->json)
    print_json(all, *o);
  else
    print_table(all, *o);
  return 0;
}

}  // namespace
}  // namespace rail::bench

int main(int argc, char** argv) {
  try {
    return rail::bench::run(argc, argv);
  } catch (const std::exception& e) {  // library exceptions (httplib, std) stop here
    std::fprintf(stderr, "rail_api_latency_bench: %s\n", e.what());
    return 1;
  }
}
