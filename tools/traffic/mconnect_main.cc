// rail-mconnect: many short connections to a VIP, and which backend answered each
// (see docs/traffic.md).
#include <cstdio>

#include "tools/traffic/cli_common.h"
#include "tools/traffic/mconnect.h"

int main(int argc, char** argv) {
  using namespace rail::traffic;
  CLI::App app{"rail-mconnect: many short connections, who answered"};
  MconnectOptions options;
  std::string target_text;
  std::string sources_text;
  std::string timeout_text = "2s";
  bool json = false;
  app.add_option("--target", target_text, "ADDR:PORT or [IPv6]:PORT")->required();
  app.add_option("--connections", options.connections, "Attempts in total")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t(1), uint64_t(100'000'000)));
  app.add_option("--parallel", options.parallel, "Attempts in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100'000u));
  app.add_option("--sources", sources_text, "Source addresses: FIRST-LAST, CIDR or a,b,c");
  app.add_option("--timeout", timeout_text, "Per attempt (connect + reply), e.g. 2s, 500ms")
      ->capture_default_str();
  app.add_flag("--udp", options.udp, "One UDP datagram per attempt instead of TCP");
  app.add_flag("--json", json, "One JSON object on stdout instead of the table");
  app.add_flag("--details", options.details,
               "Also report every attempt: local ADDR:PORT and backend (or failure kind)");
  app.add_option("--rate", options.rate, "Attempts started per second (0 = unlimited)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e7));
  if (auto code = parse_command_line(app, argc, argv)) return *code;
  auto convert = [&]() -> rail::Status {
    RAIL_TRY(assign(options.target, convert_target(target_text)));
    RAIL_TRY(assign(options.sources, convert_sources(sources_text, options.target)));
    RAIL_TRY(assign(options.timeout, convert_duration("--timeout", timeout_text, kToolDurations)));
    return rail::ok();
  };
  if (auto converted = convert(); !converted) {
    print_error(converted.error().message);
    return kExitUsage;
  }
  auto stop_fd = prepare_to_run();
  if (!stop_fd) {
    print_error(stop_fd.error().message);
    return kExitFailed;
  }
  auto report = run_mconnect(options, stop_fd->get());
  if (!report) {
    print_error(report.error().message);
    return kExitFailed;
  }
  if (json) {
    std::printf("%s\n", mconnect_json(*report).dump().c_str());
  } else {
    std::fputs(mconnect_text(*report).c_str(), stdout);
  }
  const bool all_answered = report->failed == 0 && report->ok == options.connections;
  return all_answered ? kExitOk : kExitFailed;
}
