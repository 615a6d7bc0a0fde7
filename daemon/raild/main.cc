// raild: the Rail node daemon. Loads rail.yaml, runs the XDP data plane, health checks and the
// runtime API; reloads on SIGHUP; stops on SIGTERM/SIGINT. Manual: docs/raild.md.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "daemon/api/api_server.h"
#include "daemon/api/metrics.h"
#include "daemon/config/yaml_loader.h"
#include "daemon/controller/controller.h"
#include "daemon/health/icmp_listener.h"
#include "daemon/raild/startup_config.h"
#include "daemon/raild/via_vip_probes.h"
#include "dataplane/bpffs.h"
#include "dataplane/xdp_data_plane.h"

namespace {

using namespace rail;
using namespace rail::daemon;

constexpr const char* kUsage =
    "usage: raild --config FILE [--check] [--detach-on-exit] [--log-level debug|info|warn|error]\n"
    "  --check           validate FILE (every problem, with positions) and exit; touches nothing\n"
    "  --detach-on-exit  stop forwarding when raild stops (default: the pinned program keeps\n"
    "                    forwarding and the next raild adopts it)\n";

struct Args {
  std::string config;
  bool check = false;
  bool detach_on_exit = false;
  LogLevel level = LogLevel::kInfo;
};

// Exit 2 on bad usage (docs/errors.md).
bool parse_args(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--check") {
      args.check = true;
    } else if (a == "--detach-on-exit") {
      args.detach_on_exit = true;
    } else if ((a == "--config" || a == "-c") && i + 1 < argc) {
      args.config = argv[++i];
    } else if (a == "--log-level" && i + 1 < argc) {
      const std::string l = argv[++i];
      if (l == "debug")
        args.level = LogLevel::kDebug;
      else if (l == "info")
        args.level = LogLevel::kInfo;
      else if (l == "warn")
        args.level = LogLevel::kWarn;
      else if (l == "error")
        args.level = LogLevel::kError;
      else
        return false;
    } else {
      return false;
    }
  }
  return !args.config.empty();
}

int check_only(const std::string& path) {
  auto config = load_config_file(path);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return 1;
  }
  std::printf("%s: ok (%zu pools, %zu vips)\n", path.c_str(), config->pools.size(),
              config->vips.size());
  return 0;
}

dataplane::XdpMode xdp_mode(rail::daemon::XdpMode m) {
  switch (m) {
    case rail::daemon::XdpMode::kNative:
      return dataplane::XdpMode::kNative;
    case rail::daemon::XdpMode::kGeneric:
      return dataplane::XdpMode::kGeneric;
    default:
      return dataplane::XdpMode::kNativeOrGeneric;
  }
}

Result<std::string> read_token(const std::string& path) {
  if (path.empty()) return std::string();
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token) || token.empty())
    return make_error(ErrorCode::kNotFound, "api.token_file " + path + ": unreadable or empty");
  return token;
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

int run(const Args& args, EventLog& log) {
  auto startup = load_startup_config(args.config);
  if (!startup) {
    log.error("config_invalid", {{"file", args.config}, {"error", startup.error().message}});
    return 1;
  }
  const DaemonConfig& cfg = startup->config;
  log.info("config_loaded", {{"file", startup->source}, {"why", startup->note}});

  // Maps pinned under bpffs_dir outlive this process: a restarted raild adopts them.
  const std::string pin_dir = cfg.node.bpffs_dir;
  if (Status st = dataplane::ensure_bpffs(parent_dir(pin_dir)); !st) {
    log.error("bpffs_failed", {{"dir", parent_dir(pin_dir)}, {"error", st.error().message}});
    return 1;
  }
  if (::mkdir(pin_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    log.error("bpffs_failed", {{"dir", pin_dir}, {"error", std::strerror(errno)}});
    return 1;
  }
  dataplane::XdpOptions xdp_options;
  xdp_options.pin_dir = pin_dir;
  auto xdp = dataplane::XdpDataPlane::load(xdp_options);
  if (!xdp) {
    log.error("dataplane_load_failed", {{"error", xdp.error().message}});
    return 1;
  }
  log.info("dataplane_loaded",
           {{"pin_dir", pin_dir},
            {"verified_insns", std::to_string((*xdp)->verified_insns())},
            {"adopted_ids", std::to_string((*xdp)->adopted_ids())},
            {"legacy_flows_moved", std::to_string((*xdp)->legacy_flows_moved())}});

  ControllerOptions options;
  options.config_path = args.config;
  if (auto mac = interface_mac(cfg.node.interfaces.front())) options.interface_mac = *mac;
  // check.via_vip: probes encapsulated on our egress (outlives the controller that calls it).
  ViaVipProbes via_vip(cfg.node.interfaces, options.interface_mac, log);
  if (std::any_of(cfg.pools.begin(), cfg.pools.end(),
                  [](const Pool& p) { return p.check.via_vip; }))
    if (Status st = via_vip.start(); !st) {
      log.error("via_vip_unavailable", {{"error", st.error().message}});
      return 1;
    }
  options.via_vip_probe = [&via_vip](const DaemonConfig& c, const Pool& p, const PoolBackend& b,
                                     std::optional<MacAddress> next_hop) {
    return via_vip.target(c, p, b, next_hop);
  };
  KernelNextHops resolver;
  auto controller = Controller::create(cfg, startup->runtime, **xdp, resolver, log, options);
  if (!controller) {
    log.error("start_failed", {{"error", controller.error().message}});
    return 1;
  }
  // Attach after the first apply: the program never runs with empty maps.
  for (const std::string& ifname : cfg.node.interfaces) {
    if (Status st = (*xdp)->attach(ifname, xdp_mode(cfg.node.xdp_mode)); !st) {
      log.error("attach_failed", {{"interface", ifname}, {"error", st.error().message}});
      return 1;
    }
    const bool adopted = (*xdp)->attachments().back().adopted();
    log.info("attached", {{"interface", ifname}, {"adopted", adopted ? "true" : "false"}});
  }

  // Passive detection: ICMP unreachables about backends, read on this thread's loop below.
  std::unique_ptr<health::IcmpListener> icmp;
  if (cfg.node.passive_icmp) {
    Controller* c = controller->get();
    auto opened = health::IcmpListener::open(
        {}, [c](const IpAddress& address) { return c->report_unreachable(address); });
    if (!opened) {
      log.error("icmp_listener_failed", {{"error", opened.error().message}});
      return 1;
    }
    icmp = std::move(*opened);
    log.info("icmp_listener", {{"sockets", std::to_string(icmp->fds().size())}});
  }

  auto token = read_token(cfg.node.api_token_file);
  if (!token) {
    log.error("api_failed", {{"error", token.error().message}});
    return 1;
  }
  ApiOptions api_options;
  api_options.host = cfg.node.api_listen.address.to_string();
  api_options.port = cfg.node.api_listen.port;
  api_options.token = *token;
  if (icmp) {
    const health::IcmpListener* listener = icmp.get();
    api_options.extra_metrics = [listener] { return render_icmp_metrics(listener->stats()); };
  }
  auto api = ApiServer::start(api_options, **controller, log);
  if (!api) {
    log.error("api_failed", {{"error", api.error().message}});
    return 1;
  }
  log.info("ready", {{"api", api_options.host + ":" + std::to_string((*api)->port())},
                     {"vips", std::to_string(cfg.vips.size())}});

  // The main loop: signals (blocked, read from a signalfd), ICMP sockets, a 1 s tick.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&signals, s);
  UniqueFd signal_fd(signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd.valid()) {
    log.error("signalfd_failed", {{"error", std::strerror(errno)}});
    return 1;
  }
  using Clock = std::chrono::steady_clock;
  auto next_tick = Clock::now() + std::chrono::seconds(1);
  for (bool stop = false; !stop;) {
    std::vector<pollfd> fds{{signal_fd.get(), POLLIN, 0}};
    if (icmp)
      for (int fd : icmp->fds()) fds.push_back({fd, POLLIN, 0});
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - Clock::now());
    if (::poll(fds.data(), fds.size(), int(std::max<int64_t>(0, wait.count()))) < 0 &&
        errno != EINTR) {
      log.error("poll_failed", {{"error", std::strerror(errno)}});
      break;
    }
    for (size_t i = 1; i < fds.size(); ++i)
      if (fds[i].revents & POLLIN) icmp->drain(fds[i].fd);
    signalfd_siginfo info;
    while (::read(signal_fd.get(), &info, sizeof(info)) == ssize_t(sizeof(info))) {
      const int sig = int(info.ssi_signo);
      if (sig == SIGTERM || sig == SIGINT) {
        log.info("stopping", {{"signal", sig == SIGTERM ? "TERM" : "INT"}});
        stop = true;
        break;
      }
      if (Status st = (*controller)->reload(); !st)  // SIGHUP
        log.error("reload_refused", {{"file", args.config}, {"error", st.error().message}});
    }
    if (stop || Clock::now() < next_tick) continue;
    next_tick = Clock::now() + std::chrono::seconds(1);
    // Each second: pick up next hops that resolved (or changed) since the last change.
    if (Status st = (*controller)->refresh_next_hops(); !st)
      log.warn("next_hops_not_applied", {{"error", st.error().message}});
  }
  api->reset();         // no API calls into a dying controller
  icmp.reset();         // reports into the controller
  controller->reset();  // health checks stop
  // Default: the links stay pinned and keep forwarding with the last applied maps; the next
  // raild adopts them (docs/raild.md "Upgrades and restarts").
  if (args.detach_on_exit) {
    (*xdp)->detach_all();
    log.info("detached", {{"interfaces", std::to_string(cfg.node.interfaces.size())}});
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, args)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (args.check) return check_only(args.config);
  // Signals are taken synchronously by the main loop: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  EventLog log(args.level);
  return run(args, log);
}
