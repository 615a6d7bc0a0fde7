// rail-tput: TCP throughput through a VIP against rail-nameserver's SINK/SOURCE modes
// (see docs/traffic.md).
#include <cstdio>

#include "tools/traffic/cli_common.h"
#include "tools/traffic/tput.h"

int main(int argc, char** argv) {
  using namespace rail::traffic;
  CLI::App app{"rail-tput: throughput through a VIP (upload or download)"};
  TputOptions options;
  std::string target_text;
  std::string direction = "download";
  std::string sources_text;
  std::string duration_text = "5s";
  bool json = false;
  app.add_option("--target", target_text, "ADDR:PORT or [IPv6]:PORT")->required();
  app.add_option("--direction", direction, "upload (client sends) or download")
      ->capture_default_str()
      ->check(CLI::IsMember({"upload", "download"}));
  app.add_option("--streams", options.streams, "Parallel TCP connections")
      ->capture_default_str()
      ->check(CLI::Range(1u, 10'000u));
  app.add_option("--duration", duration_text, "Measured time, e.g. 5s")->capture_default_str();
  app.add_option("--sources", sources_text, "Source addresses: FIRST-LAST, CIDR or a,b,c");
  app.add_flag("--json", json, "One JSON object on stdout");
  if (auto code = parse_command_line(app, argc, argv)) return *code;
  auto convert = [&]() -> rail::Status {
    RAIL_TRY(assign(options.target, convert_target(target_text)));
    RAIL_TRY(assign(options.sources, convert_sources(sources_text, options.target)));
    RAIL_TRY(
        assign(options.duration, convert_duration("--duration", duration_text, kToolDurations)));
    return rail::ok();
  };
  if (auto converted = convert(); !converted) {
    print_error(converted.error().message);
    return kExitUsage;
  }
  options.direction = direction == "upload" ? TputDirection::kUpload : TputDirection::kDownload;
  auto stop_fd = prepare_to_run();
  if (!stop_fd) {
    print_error(stop_fd.error().message);
    return kExitFailed;
  }
  auto report = run_tput(options, stop_fd->get());
  if (!report) {
    print_error(report.error().message);
    return kExitFailed;
  }
  if (json) {
    std::printf("%s\n", tput_json(*report).dump().c_str());
  } else {
    std::fputs(tput_text(*report).c_str(), stdout);
  }
  return report->errors.empty() && report->bytes > 0 ? kExitOk : kExitFailed;
}
