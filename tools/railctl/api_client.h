// railctl's HTTP client of raild's API: the global options, one request helper, and how API
// and connection errors are reported (exit codes of subcommands.h).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"
#include "tools/railctl/subcommands.h"

namespace rail::railctl {

// The global options, shared by every API subcommand (filled in by CLI11 before any action).
struct ApiSettings {
  std::string url = "http://127.0.0.1:9180";  // --api, $RAIL_API
  std::string token_file;                     // --token-file, $RAIL_TOKEN_FILE
  bool json = false;                          // --json: print the API's JSON, pretty
  double timeout_seconds = 5;                 // --timeout: connect, read and write each
};

// An answer of the API, any status.
struct ApiResponse {
  int status = 0;
  std::string body;
};

// Sends one request; `body` is sent as application/json when not empty. Never throws.
// Unreachable server: "cannot reach raild at http://127.0.0.1:9180: Connection refused".
// Errors: kInvalidArgument for a bad --api URL (a usage error), anything else is a failure.
Result<ApiResponse> api_request(const ApiSettings& settings, const std::string& method,
                                const std::string& path, const std::string& body = "");

// The whole exchange of most commands: sends, then on 2xx returns the parsed JSON (or the raw
// text for non-JSON endpoints as a JSON string); on anything else prints the API's error and
// its details to stderr. `exit_code` receives the code to exit with on failure.
Result<nlohmann::json> api_call(const ApiSettings& settings, const std::string& method,
                                const std::string& path, int& exit_code,
                                const std::string& body = "");

// A change: sends it, prints `done` (or the API's JSON with --json) on success, and returns
// the exit code.
int api_change(const ApiSettings& settings, const std::string& method, const std::string& path,
               const std::string& body, const std::string& done);

// Print a failed exchange to stderr and return the exit code it means: a request that got no
// answer (1, or 2 for a bad --api URL), or the API's {"error", "details"} answer (1).
int report_failure(const Error& error);
int report_api_error(const ApiSettings& settings, const ApiResponse& response);

// Prints `j` pretty (the --json output).
void print_json(const nlohmann::json& j);

// "/v1/pools/<pool>/backends/<address>" with each segment percent-encoded.
std::string backend_path(const std::string& pool, const std::string& address);
std::string url_segment(const std::string& text);

// Registration of the API subcommands (cmd_api_*.cc), all sharing `settings`.
void add_api_read_commands(CLI::App& app, Action& action, std::shared_ptr<ApiSettings> settings);
void add_api_vip_commands(CLI::App& app, Action& action, std::shared_ptr<ApiSettings> settings);
void add_api_backend_commands(CLI::App& app, Action& action, std::shared_ptr<ApiSettings> settings);

}  // namespace rail::railctl
