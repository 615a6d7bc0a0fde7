// rail-decap: load the backend decapsulator, attach it, log stats until SIGTERM/SIGINT, detach.
//
// Exit codes: 0 stopped by a signal (or --check-only / --help succeeded), 1 load/attach
// failure, 2 usage error. Log lines go to stdout (logfmt, or JSON with --json); errors to
// stderr as "error: <message>". docs/decap.md, "rail-decap command".
#include <net/if.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "dataplane/decap_program.h"
#include "tools/decap/log_line.h"
#include "tools/decap/options.h"

namespace rail::decap_cmd {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Printer {
  bool json;
  void operator()(const LogLine& line) const {
    std::string text = (json ? line.json() : line.logfmt()) + "\n";
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);  // journald / pipes see each line as it happens
  }
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

int fail(const Error& error) {
  std::fprintf(stderr, "error: %s%s\n", error.message.c_str(),
               error.code == ErrorCode::kPermission
                   ? " (rail-decap needs root, or CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON)"
                   : "");
  return kExitFailure;
}

// Counters by kind: what was decapsulated, what passed, what was dropped and why.
void add_stats(LogLine& line, const dataplane::DecapStats& s) {
  struct Kind {
    const char* name;
    rail_decap_stat stat;
  };
  for (Kind k : {Kind{"gre", RAIL_DECAP_STAT_GRE}, Kind{"ipip", RAIL_DECAP_STAT_IPIP},
                 Kind{"ip6", RAIL_DECAP_STAT_IP6}, Kind{"gue", RAIL_DECAP_STAT_GUE}}) {
    line.add(std::string("decap_") + k.name + "_packets", s.stat(k.stat).packets);
    line.add(std::string("decap_") + k.name + "_bytes", s.stat(k.stat).bytes);
  }
  line.add("passed_packets", s.passed().packets).add("passed_bytes", s.passed().bytes);
  struct Reason {
    const char* name;
    rail_drop_reason reason;
  };
  uint64_t total = 0;
  for (const auto& d : s.drops) total += d.packets;
  line.add("drop_packets", total);
  for (Reason r : {Reason{"malformed_l3", RAIL_DROP_MALFORMED_L3},
                   Reason{"malformed_encap", RAIL_DROP_MALFORMED_ENCAP},
                   Reason{"unsupported_encap", RAIL_DROP_UNSUPPORTED_ENCAP},
                   Reason{"adjust_failed", RAIL_DROP_ADJUST_FAILED}}) {
    line.add(std::string("drop_") + r.name, s.drop(r.reason).packets);
  }
}

void log_stats(const Printer& print, const dataplane::DecapProgram& program, LogLine line) {
  auto stats = program.stats();
  if (!stats) {
    line.add("stats_error", stats.error().message);
  } else {
    add_stats(line, *stats);
  }
  print(line);
}

int run(const DecapCommandOptions& o) {
  Printer print{o.json};
  auto program =
      dataplane::DecapProgram::load({.any_address = o.any_address, .gue_port = o.gue_port});
  if (!program) return fail(program.error());
  std::vector<std::string> addresses;
  for (const IpAddress& a : o.addresses) {
    if (Status st = program->add_address(a); !st) return fail(st.error());
    addresses.push_back(a.to_string());
  }
  if (o.check_only) {
    for (const std::string& ifname : o.interfaces) {
      if (if_nametoindex(ifname.c_str()) == 0) {
        return fail(make_error(ErrorCode::kNotFound, "no interface named " + ifname));
      }
    }
    print(LogLine("check-ok")
              .add("mode", to_string(o.mode))
              .add("interfaces", join(o.interfaces))
              .add("addresses", o.any_address ? "any" : join(addresses))
              .add("gue_port", o.gue_port));
    return kExitOk;
  }

  // Blocked before attaching, so a signal during attach is taken by sigtimedwait below (and
  // the attachments' destructors run) instead of killing the process with filters left behind.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, nullptr);

  std::vector<std::string> attached;
  for (const std::string& ifname : o.interfaces) {
    Status st = o.mode == AttachMode::kTc ? program->attach_tc(ifname)
                : o.mode == AttachMode::kXdp
                    ? program->attach_xdp(ifname, dataplane::XdpMode::kNative)
                    : program->attach_xdp(ifname, dataplane::XdpMode::kGeneric);
    if (!st) return fail(st.error());
    attached.push_back(ifname);
  }
  print(LogLine("start")
            .add("mode", to_string(o.mode))
            .add("interfaces", join(attached))
            .add("addresses", o.any_address ? "any" : join(addresses))
            .add("gue_port", o.gue_port)
            .add("stats_interval", format_duration(o.stats_interval)));

  int signo = 0;
  while (signo == 0) {
    if (o.stats_interval.count() == 0) {
      if (sigwait(&stop_signals, &signo) != 0) signo = 0;
      continue;
    }
    timespec timeout{static_cast<time_t>(o.stats_interval.count() / 1000),
                     static_cast<long>(o.stats_interval.count() % 1000) * 1000000L};
    int got = sigtimedwait(&stop_signals, nullptr, &timeout);
    if (got > 0) {
      signo = got;
    } else if (errno == EAGAIN) {
      log_stats(print, *program, LogLine("stats"));
    }  // EINTR: another signal (e.g. SIGSTOP/SIGCONT); keep waiting
  }
  program->detach_all();
  log_stats(print, *program,
            LogLine("stop").add("signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"));
  return kExitOk;
}

}  // namespace
}  // namespace rail::decap_cmd

int main(int argc, char** argv) {
  using namespace rail::decap_cmd;
  auto options = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  if (!options) {
    std::fprintf(stderr, "error: %s\n%s", options.error().message.c_str(), kUsage);
    return kExitUsage;
  }
  if (options->help) {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  return run(*options);
}
