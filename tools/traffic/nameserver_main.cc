// rail-nameserver: the backend side of Rail's traffic tools (see docs/traffic.md).
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "tools/traffic/cli_common.h"
#include "tools/traffic/name_server.h"

int main(int argc, char** argv) {
  using namespace rail::traffic;
  CLI::App app{"rail-nameserver: answers every line with \"NAME LINE\" (TCP, UDP, HTTP)"};
  NameServerOptions options;
  std::string bind_text;
  std::string udp_port_text;
  bool quiet = false;
  app.add_option("--name", options.name, "Name sent first in every answer")->required();
  app.add_option("--port", options.tcp_port, "TCP port (lines, HTTP, SINK, SOURCE)")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_option("--udp-port", udp_port_text, "UDP port (default: --port)");
  app.add_option("--bind", bind_text, "Listen on this address only (default: all, dual stack)");
  app.add_flag("--quiet", quiet, "No start/stop lines on stderr");
  if (auto exit_code = parse_command_line(app, argc, argv)) return *exit_code;
  options.udp_port = options.tcp_port;
  if (!udp_port_text.empty()) {
    auto port = parse_port(udp_port_text, "--udp-port");
    if (!port) {
      std::fprintf(stderr, "error: %s\n", port.error().message.c_str());
      return kExitUsage;
    }
    options.udp_port = *port;
  }
  if (!bind_text.empty()) {
    auto address = rail::IpAddress::parse(bind_text);
    if (!address) {
      std::fprintf(stderr, "error: --bind '%s' is not an IP address\n", bind_text.c_str());
      return kExitUsage;
    }
    options.bind = *address;
  }
  auto stop_fd = prepare_to_run();
  if (!stop_fd) {
    print_error(stop_fd.error().message);
    return kExitFailed;
  }
  auto server = NameServer::open(options);
  if (!server) {
    std::fprintf(stderr, "error: rail-nameserver %s: %s\n", options.name.c_str(),
                 server.error().message.c_str());
    return kExitUsage;
  }
  if (!quiet) {
    std::fprintf(stderr, "rail-nameserver %s: listening on %s\n", options.name.c_str(),
                 server->describe_listeners().c_str());
  }
  auto stats = server->run(stop_fd->get());
  if (!stats) {
    std::fprintf(stderr, "error: rail-nameserver %s: %s\n", options.name.c_str(),
                 stats.error().message.c_str());
    return kExitFailed;
  }
  if (!quiet) {
    std::fprintf(stderr,
                 "rail-nameserver %s: stopped by %s after %llu TCP connections, %llu UDP "
                 "answers\n",
                 options.name.c_str(), stats->stop_signal == SIGINT ? "SIGINT" : "SIGTERM",
                 static_cast<unsigned long long>(stats->tcp_connections),
                 static_cast<unsigned long long>(stats->udp_datagrams));
  }
  return kExitOk;
}
