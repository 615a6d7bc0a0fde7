// Command-line helpers shared by the traffic tools' mains: exit codes, CLI11 parsing with
// Rail's error format, and conversion of the shared option values.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
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

// Converts --target, --sources and a duration option; prints the error and returns false when
// one is malformed (the caller exits with kExitUsage).
inline bool convert_target(const std::string& text, Endpoint& out) {
  auto endpoint = parse_endpoint(text);
  if (!endpoint) {
    print_error("--target: " + endpoint.error().message);
    return false;
  }
  out = *endpoint;
  return true;
}

inline bool convert_sources(const std::string& text, const Endpoint& target,
                            std::vector<IpAddress>& out) {
  auto sources = parse_sources(text);
  if (!sources) {
    print_error("--sources: " + sources.error().message);
    return false;
  }
  for (const IpAddress& a : *sources) {
    if (a.family() != target.address().family()) {
      print_error("--sources: " + a.to_string() + " is not of the target's address family");
      return false;
    }
  }
  out = std::move(*sources);
  return true;
}

inline bool convert_duration(const std::string& option, const std::string& text,
                             std::chrono::milliseconds& out) {
  auto duration = parse_duration(text);
  if (!duration) {
    print_error(option + ": " + duration.error().message);
    return false;
  }
  out = *duration;
  return true;
}

}  // namespace rail::traffic
