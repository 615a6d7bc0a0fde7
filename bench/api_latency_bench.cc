// rail_api_latency_bench: time from a runtime API call to the XDP program forwarding with the
// new table (issue #4), for one VIP of 1000 backends (M = 65537). Needs root (loads the BPF).
//
// A Controller over the real XdpDataPlane (loaded, not attached) and the ApiServer on
// 127.0.0.1. Four kinds of change, each a toggle made through real HTTP, back and forth; the
// first three change backend X (the backend of a probe flow) of the big VIP:
//   drain           POST .../X/drain, POST .../X/undrain           (runtime override)
//   weight          PUT .../X/weight {"weight": 2}, then back to 1  (config edit)
//   remove+add      DELETE .../X, POST .../backends {"address": X} (config edit)
//   vip remove+add  DELETE /v1/vips/small, POST /v1/vips {small}  (config edit: a second VIP,
//                   4 backends in an inline pool, probed with flows to its own address; also
//                   one row per direction, "vip remove+add DELETE" and "... POST")
// Before timing, each toggle is calibrated: probe SYNs of many flows are run through the program
// (BPF_PROG_TEST_RUN) before, after and after undoing the change, and a flow whose outcome
// differs is chosen: another backend, or for the VIP, forwarded (VIP there) vs passed to the
// stack (VIP gone; its table re-added is the same, so the backend cannot differ). Timing: t0
// before the request; after the response, that flow's SYN is run through the program until the
// outcome is the one expected after the change; t1 then.
// At the end the state file (and runtime file) must load back equal to the running state.
// Runs with the state file on tmpfs (/dev/shm) and on disk (/tmp) unless --state-dir says one.
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
#include "unit/controller_world_yaml.h"

namespace rail::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint16_t kFirstProbePort = 40000;
constexpr int kProbeFlows = 8192;  // enough for one to land on the ~65 entries a weight moves
constexpr const char* kBigVip = "198.18.100.1";    // www, pool web (--backends)
constexpr const char* kSmallVip = "198.18.100.2";  // small, added and removed by the last kind

struct Options {
  int changes = 200;  // per kind; even, so every toggle ends where it began
  int backends = 1000;
  bool json = false;
  std::vector<std::string> state_dirs;
};

struct Summary {
  double median = 0, p90 = 0, p99 = 0, max = 0;  // ms
};

struct Samples {
  std::vector<double> total, http, apply;  // ms, one per change
  int first_poll_hits = 0;                 // changes already visible at the first probe
  int max_polls = 0;
};

struct Row {
  std::string kind;
  Summary to_forwarding;  // t1 - t0: API call to the program forwarding with the new table
  Summary http;           // HTTP round trip (the answer comes after the apply)
  Summary apply;          // the Controller's last apply latency (translate + DataPlane::apply)
  int changes = 0, first_poll_hits = 0, max_polls = 0;
};

struct Scenario {
  std::string state_dir;
  std::vector<Row> rows;  // one per kind, then "all"
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

Row row_of(std::string kind, const Samples& s) {
  return Row{std::move(kind),     summarize(s.total), summarize(s.http), summarize(s.apply),
             int(s.total.size()), s.first_poll_hits,  s.max_polls};
}

IpAddress backend_address(int i) {
  return golden::ip("198.18." + std::to_string(10 + i / 250) + "." + std::to_string(1 + i % 250));
}

std::string config_yaml(const std::string& dir, int backends) {
  std::string list;
  for (int i = 0; i < backends; ++i) list += (i ? ", " : "") + backend_address(i).to_string();
  return daemon::testing::world_yaml(dir, "type: none", "[" + list + "]", 65537);
}

golden::Bytes syn_frame(uint16_t sport, const char* vip) {
  return golden::from_router(
      golden::tcp4(golden::ip("198.18.200.1"), sport, golden::ip(vip), 80).syn().build());
}

// What the program did with a probe SYN: sent to `backend` (the outer IPv4 destination of a
// TX'd GRE frame), or `passed` to the stack (no such VIP); neither: anything else.
struct Outcome {
  std::optional<IpAddress> backend;
  bool passed = false;
  bool known() const { return backend || passed; }
  bool operator==(const Outcome&) const = default;
  std::string text() const { return passed ? "passed" : backend ? backend->to_string() : "?"; }
};

Outcome run_probe(int prog_fd, const golden::Bytes& frame) {
  auto r = bpftest::test_run(prog_fd, frame);
  if (r && r->retval == 2 /* XDP_PASS */) return Outcome{std::nullopt, true};
  if (!r || r->retval != 3 /* XDP_TX */ || r->output.size() < 34) return {};
  const auto& o = r->output;
  if (o[12] != 0x08 || o[13] != 0x00) return {};
  char text[32];
  std::snprintf(text, sizeof text, "%u.%u.%u.%u", o[30], o[31], o[32], o[33]);
  auto a = IpAddress::parse(text);
  if (!a) return {};
  return Outcome{*a, false};
}

// The outcome of every probe flow to `vip` under the tables the program holds now.
std::vector<Outcome> probe_all(int prog_fd, const char* vip) {
  std::vector<Outcome> out;
  for (int i = 0; i < kProbeFlows; ++i)
    out.push_back(run_probe(prog_fd, syn_frame(uint16_t(kFirstProbePort + i), vip)));
  return out;
}

// One change of a toggle through HTTP: `forward` makes it, !forward undoes it.
struct Toggle {
  std::string kind;
  std::string method, forward_path, back_path;  // method: "POST", "PUT" or "DELETE"
  std::string forward_body, back_body;
  std::string back_method;    // remove+add undoes a DELETE with a POST
  const char* vip = kBigVip;  // where the probe flows go
  bool split = false;         // also a row per direction ("<kind> DELETE", "<kind> POST")
};

Status send(httplib::Client& client, const std::string& method, const std::string& path,
            const std::string& body) {
  httplib::Result r = method == "POST"  ? client.Post(path, body, "application/json")
                      : method == "PUT" ? client.Put(path, body, "application/json")
                                        : client.Delete(path);
  if (!r || r->status != 200)
    return make_error(ErrorCode::kSystem,
                      method + " " + path + ": " + (r ? r->body : httplib::to_string(r.error())));
  return ok();
}

Status change(httplib::Client& client, const Toggle& t, bool forward) {
  return forward ? send(client, t.method, t.forward_path, t.forward_body)
                 : send(client, t.back_method, t.back_path, t.back_body);
}

// Makes and undoes `t` once, untimed, and returns a probe port whose outcome differs between
// the two tables (both known), with its outcome before and after the change.
struct Probe {
  uint16_t port = 0;
  Outcome before, after;
};
Result<Probe> calibrate(httplib::Client& client, int prog_fd, const Toggle& t) {
  const auto before = probe_all(prog_fd, t.vip);
  RAIL_TRY(change(client, t, true));
  const auto after = probe_all(prog_fd, t.vip);
  RAIL_TRY(change(client, t, false));
  if (probe_all(prog_fd, t.vip) != before)
    return make_error(ErrorCode::kInternal, t.kind + ": undoing the change gave another table");
  for (size_t i = 0; i < size_t(kProbeFlows); ++i)
    if (before[i].known() && after[i].known() && before[i] != after[i])
      return Probe{uint16_t(kFirstProbePort + i), before[i], after[i]};
  return make_error(ErrorCode::kInternal, t.kind + ": no probe flow changes outcome");
}

Status time_toggle(httplib::Client& client, daemon::Controller& controller, int prog_fd,
                   const Toggle& t, int changes, Samples& s) {
  auto probe = calibrate(client, prog_fd, t);
  if (!probe) return probe.error();
  const golden::Bytes frame = syn_frame(probe->port, t.vip);
  for (int i = 0; i < changes; ++i) {
    const bool forward = i % 2 == 0;
    const Outcome& want = forward ? probe->after : probe->before;
    const auto t0 = Clock::now();
    RAIL_TRY(change(client, t, forward));
    const auto t_http = Clock::now();
    int polls = 0;
    for (;;) {
      ++polls;
      if (run_probe(prog_fd, frame) == want) break;
      if (ms_since(t0, Clock::now()) > 5000)
        return make_error(ErrorCode::kInternal, t.kind + " change " + std::to_string(i) +
                                                    " not visible after 5 s (want " + want.text() +
                                                    ")");
    }
    const auto t1 = Clock::now();
    s.total.push_back(ms_since(t0, t1));
    s.http.push_back(ms_since(t0, t_http));
    s.apply.push_back(controller.last_apply_seconds() * 1000.0);
    if (polls == 1) ++s.first_poll_hits;
    s.max_polls = std::max(s.max_polls, polls);
  }
  return ok();
}

// The files raild would start from must hold what runs (after the controller is gone).
Status check_persisted(const std::string& state_file, const daemon::DaemonConfig& config,
                       const daemon::RuntimeState& runtime) {
  auto saved = daemon::load_config_file(state_file);
  if (!saved) return saved.error();
  if (!(*saved == config))
    return make_error(ErrorCode::kInternal, state_file + " differs from the running config");
  auto saved_runtime = daemon::load_runtime_state(daemon::runtime_state_path(state_file));
  if (!saved_runtime) return saved_runtime.error();
  if (!(*saved_runtime == runtime))
    return make_error(ErrorCode::kInternal, "the runtime file differs from the running state");
  return ok();
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

  const auto x = run_probe(plane.prog_fd(), syn_frame(kFirstProbePort, kBigVip)).backend;
  if (!x) return make_error(ErrorCode::kInternal, "the probe SYN was not forwarded");
  // The second VIP: added once untimed, then removed and added back as the last kind.
  std::string small_backends;
  for (int i = 0; i < std::min(4, o.backends); ++i)
    small_backends += (i ? R"(", ")" : R"(")") + backend_address(i).to_string();
  const std::string small = R"({"name": "small", "address": ")" + std::string(kSmallVip) +
                            R"(", "port": 80, "table_size": 251, "pool": {"backends": [)" +
                            small_backends + R"("]}})";
  RAIL_TRY(send(client, "POST", "/v1/vips", small));
  const std::string path = "/v1/pools/web/backends/" + x->to_string();
  const std::vector<Toggle> toggles = {
      {"drain", "POST", path + "/drain", path + "/undrain", "", "", "POST"},
      {"weight", "PUT", path + "/weight", path + "/weight", R"({"weight": 2})", R"({"weight": 1})",
       "PUT"},
      {"remove+add", "DELETE", path, "/v1/pools/web/backends", "",
       R"({"address": ")" + x->to_string() + R"("})", "POST"},
      {"vip remove+add", "DELETE", "/v1/vips/small", "/v1/vips", "", small, "POST", kSmallVip,
       true},
  };
  Scenario sc;
  sc.state_dir = base;
  Samples all;
  for (const Toggle& t : toggles) {
    Samples s;
    if (auto st = time_toggle(client, **controller, plane.prog_fd(), t, o.changes, s); !st)
      return st.error();
    sc.rows.push_back(row_of(t.kind, s));
    if (t.split) {  // the changes alternate: forward first
      Samples dir[2];
      for (size_t k = 0; k < s.total.size(); ++k)
        for (auto [from, to] : {std::pair{&s.total, &dir[k % 2].total},
                                {&s.http, &dir[k % 2].http},
                                {&s.apply, &dir[k % 2].apply}})
          to->push_back((*from)[k]);
      sc.rows.push_back(row_of(t.kind + " " + t.method, dir[0]));
      sc.rows.push_back(row_of(t.kind + " " + t.back_method, dir[1]));
    }
    for (auto [from, to] :
         {std::pair{&s.total, &all.total}, {&s.http, &all.http}, {&s.apply, &all.apply}})
      to->insert(to->end(), from->begin(), from->end());
    all.first_poll_hits += s.first_poll_hits;
    all.max_polls = std::max(all.max_polls, s.max_polls);
  }
  sc.rows.push_back(row_of("all", all));

  const daemon::DaemonConfig running = (*controller)->config();
  const daemon::RuntimeState runtime = (*controller)->runtime();
  server->reset();
  controller->reset();  // a controller that goes away leaves its state on disk
  RAIL_TRY(check_persisted(running.node.state_file, running, runtime));
  return sc;
}

void print_table(const std::vector<Scenario>& all, const Options& o) {
  std::printf(
      "API -> data plane latency: 1 VIP, %d backends, M=65537, %d changes per kind "
      "(back and forth)\n",
      o.backends, o.changes);
  std::printf("%-9s %-21s %-17s %8s %8s %8s %8s\n", "state dir", "change", "measure (ms)", "median",
              "p90", "p99", "max");
  for (const Scenario& s : all) {
    for (const Row& r : s.rows) {
      auto line = [&](const char* name, const Summary& m) {
        std::printf("%-9s %-21s %-17s %8.3f %8.3f %8.3f %8.3f\n", s.state_dir.c_str(),
                    r.kind.c_str(), name, m.median, m.p90, m.p99, m.max);
      };
      line("api->forwarding", r.to_forwarding);
      line("http round trip", r.http);
      line("controller apply", r.apply);
    }
    const Row& total = s.rows.back();
    std::printf(
        "%-9s first probe saw the new table: %d/%d (max probes %d); target p99 < 10 ms: %s\n",
        s.state_dir.c_str(), total.first_poll_hits, total.changes, total.max_polls,
        total.to_forwarding.p99 < 10.0 ? "PASS" : "MISS");
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
  std::printf(
      "{\"backends\": %d, \"table_size\": 65537, \"changes_per_kind\": %d, "
      "\"target_p99_ms\": 10,\n \"scenarios\": [\n",
      o.backends, o.changes);
  for (size_t i = 0; i < all.size(); ++i) {
    std::printf("  {\"state_dir\": \"%s\", \"changes\": [\n", all[i].state_dir.c_str());
    const auto& rows = all[i].rows;
    for (size_t k = 0; k < rows.size(); ++k) {
      const Row& r = rows[k];
      std::printf(
          "    {\"kind\": \"%s\", \"count\": %d, \"api_to_forwarding_ms\": %s,\n"
          "     \"http_ms\": %s, \"apply_ms\": %s, \"first_poll_hits\": %d, "
          "\"max_polls\": %d}%s\n",
          r.kind.c_str(), r.changes, obj(r.to_forwarding).c_str(), obj(r.http).c_str(),
          obj(r.apply).c_str(), r.first_poll_hits, r.max_polls, k + 1 < rows.size() ? "," : "");
    }
    std::printf("  ]}%s\n", i + 1 < all.size() ? "," : "");
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
      if (n < 2 || n > 100000 || (a == "--changes" && n % 2))
        return make_error(ErrorCode::kInvalidArgument,
                          a + ": 2..100000 (even for --changes), not " + *v);
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
