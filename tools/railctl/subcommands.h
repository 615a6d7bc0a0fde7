// railctl subcommand registry: each subcommand adds itself to the CLI11 app and sets the
// action main() runs after parsing.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace rail::railctl {

// Exit codes (docs/errors.md): 0 ok, 1 failure, 2 bad usage.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// The action of the chosen subcommand, returning the process exit code.
using Action = std::function<int()>;

// `railctl maglev`: offline Maglev balance and disruption analysis (cmd_maglev.cc).
void add_maglev_command(CLI::App& app, Action& action);
void add_simulate_command(CLI::App& app, Action& action);
// The raild API subcommands and the global --api/--token-file/--json/--timeout (cmd_api_*.cc).
void add_api_commands(CLI::App& app, Action& action);

}  // namespace rail::railctl
