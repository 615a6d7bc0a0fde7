// Command-line helpers shared by the traffic tools' mains: exit codes, CLI11 parsing with
// Rail's error format, and conversion of the shared option values.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/traffic/event_loop.h"
#include "tools/traffic/socket_util.h"
#include "tools/traffic/traffic_options.h"

namespace rail::traffic {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Parses argv; on --help or a parse error returns the exit code to use, else nullopt.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitUsage;
  }
  return std::nullopt;
}

// What every traffic tool does before its run: SIGPIPE ignored (a peer's reset must not kill the
// tool: the write fails with EPIPE instead), the fd limit raised (thousands of sockets), and
// SIGINT/SIGTERM as the fd its event loop watches to stop.
inline Result<UniqueFd> prepare_to_run() {
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  return make_stop_signal_fd();
}

inline void print_error(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
}

// Conversions of --target, --sources and the duration options: the error names the option;
// the main prints it once and exits with kExitUsage.
inline Result<Endpoint> convert_target(const std::string& text) {
  auto endpoint = parse_endpoint(text);
  if (!endpoint)
    return make_error(ErrorCode::kInvalidArgument, "--target: " + endpoint.error().message);
  return *endpoint;
}

inline Result<std::vector<IpAddress>> convert_sources(const std::string& text,
                                                      const Endpoint& target) {
  auto sources = parse_sources(text);
  if (!sources)
    return make_error(ErrorCode::kInvalidArgument, "--sources: " + sources.error().message);
  for (const IpAddress& a : *sources) {
    if (a.family() != target.address().family()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--sources: " + a.to_string() + " is not of the target's address family");
    }
  }
  return std::move(*sources);
}

// `rules`: kToolDurations (longer than 0) or kToolDelays (0 allowed).
inline Result<std::chrono::milliseconds> convert_duration(const std::string& option,
                                                          const std::string& text,
                                                          const DurationOptions& rules) {
  auto duration = parse_duration(text, rules);
  if (!duration) return make_error(duration.error().code, option + ": " + duration.error().message);
  return *duration;
}

// Moves a converted value into `out` or passes its error on, for a main's conversion step:
// RAIL_TRY(assign(options.target, convert_target(target_text))).
template <typename T>
Status assign(T& out, Result<T> converted) {
  if (!converted) return converted.error();
  out = std::move(*converted);
  return ok();
}

}  // namespace rail::traffic
