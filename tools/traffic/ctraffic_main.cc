// rail-ctraffic: long-lived connections at a steady message rate through a VIP, and which of
// them got lost (see docs/traffic.md).
#include <cstdio>
#include <fstream>

#include "tools/traffic/cli_common.h"
#include "tools/traffic/ctraffic.h"
#include "tools/traffic/svg_chart.h"

namespace {

using namespace rail::traffic;

rail::Status write_file(const std::string& path, const std::string& contents) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << contents;
  file.close();
  if (!file) return rail::make_error(rail::ErrorCode::kSystem, "cannot write " + path);
  return rail::ok();
}

ChartSpec chart_of(const CtrafficRecorder& recorder, const CtrafficRunInfo& info) {
  ChartSpec spec;
  spec.title =
      "rail-ctraffic " + info.target + ": " + std::to_string(info.connections) + " connections";
  spec.x_label = "time (s)";
  spec.y_label = "connections";
  spec.series = {{"alive", "#1f77b4", {{0, 0}}, ""},
                 {"lost (total)", "#d62728", {{0, 0}}, ""},
                 {"reconnected (total)", "#2ca02c", {{0, 0}}, "6 4"}};
  for (const CtrafficSample& s : recorder.samples()) {
    spec.series[0].points.emplace_back(s.t, double(s.alive));
    spec.series[1].points.emplace_back(s.t, double(s.lost_total));
    spec.series[2].points.emplace_back(s.t, double(s.reconnected_total));
  }
  return spec;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rail-ctraffic: long-lived connections at a steady rate, what got lost"};
  CtrafficOptions options;
  std::string target_text;
  std::string sources_text;
  std::string duration_text = "30s";
  std::string timeout_text = "1s";
  std::string connect_timeout_text = "3s";
  std::string reconnect_delay_text = "0s";
  std::string json_out;
  std::string svg_out;
  bool progress = false;
  app.add_option("--target", target_text, "ADDR:PORT or [IPv6]:PORT")->required();
  app.add_option("--connections", options.connections, "Connections kept open")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1'000'000u));
  app.add_option("--rate", options.rate, "Messages per second per connection")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 100000.0));
  app.add_option("--duration", duration_text, "How long to run, e.g. 30s, 2m")
      ->capture_default_str();
  app.add_option("--timeout", timeout_text, "A reply later than this = connection lost")
      ->capture_default_str();
  app.add_option("--connect-timeout", connect_timeout_text, "Connect + first reply of an attempt")
      ->capture_default_str();
  app.add_option("--sources", sources_text, "Source addresses: FIRST-LAST, CIDR or a,b,c");
  app.add_flag("--reconnect,!--no-reconnect", options.reconnect,
               "Replace lost connections (default on)");
  app.add_option("--reconnect-delay", reconnect_delay_text,
                 "Wait this long after a loss before reconnecting, e.g. 500ms")
      ->capture_default_str();
  app.add_option("--json-out", json_out, "Write samples and summary as JSON to this file");
  app.add_option("--svg-out", svg_out, "Write an SVG chart (alive, lost, reconnected)");
  app.add_flag("--progress", progress, "One line per second on stderr");
  app.add_option("--stop-file", options.stop_file, "End early when this file appears");
  if (auto code = parse_command_line(app, argc, argv)) return *code;
  auto convert = [&]() -> rail::Status {
    RAIL_TRY(assign(options.target, convert_target(target_text)));
    RAIL_TRY(assign(options.sources, convert_sources(sources_text, options.target)));
    RAIL_TRY(
        assign(options.duration, convert_duration("--duration", duration_text, kToolDurations)));
    RAIL_TRY(assign(options.timeout, convert_duration("--timeout", timeout_text, kToolDurations)));
    RAIL_TRY(assign(options.connect_timeout,
                    convert_duration("--connect-timeout", connect_timeout_text, kToolDurations)));
    RAIL_TRY(assign(options.reconnect_delay,
                    convert_duration("--reconnect-delay", reconnect_delay_text, kToolDelays)));
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
  CtrafficRecorder recorder;
  auto outcome = run_ctraffic(options, stop_fd->get(), recorder, [&](const CtrafficSample& s) {
    if (progress) std::fprintf(stderr, "%s\n", CtrafficRecorder::progress_line(s).c_str());
  });
  if (!outcome) {
    print_error(outcome.error().message);
    return kExitFailed;
  }
  const CtrafficRunInfo info{options.target.to_string(), options.connections, options.rate,
                             outcome->duration_s, outcome->interrupted};
  std::fputs(recorder.summary_text(info).c_str(), stdout);
  int exit_code = kExitOk;
  if (!json_out.empty()) {
    if (auto written = write_file(json_out, recorder.to_json(info).dump(1) + "\n"); !written) {
      print_error(written.error().message);
      exit_code = kExitFailed;
    }
  }
  if (!svg_out.empty()) {
    auto written = write_file(svg_out, render_svg_line_chart(chart_of(recorder, info)));
    if (!written) {
      print_error(written.error().message);
      exit_code = kExitFailed;
    }
  }
  if (recorder.ever_alive() == 0) {
    print_error("no connection to " + info.target + " was ever answered");
    return kExitFailed;
  }
  return exit_code;
}
