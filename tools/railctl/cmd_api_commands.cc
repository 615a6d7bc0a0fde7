// Registers the API subcommands and railctl's global API options (--api, --token-file,
// --json, --timeout) with their environment variables.
#include "tools/railctl/api_client.h"

namespace rail::railctl {

void add_api_commands(CLI::App& app, Action& action) {
  auto s = std::make_shared<ApiSettings>();
  app.add_option("--api", s->url, "raild's API URL")->envname("RAIL_API")->capture_default_str();
  app.add_option("--token-file", s->token_file, "file holding the API's bearer token")
      ->envname("RAIL_TOKEN_FILE");
  app.add_flag("--json", s->json, "print the API's JSON (pretty) instead of tables");
  app.add_option("--timeout", s->timeout_seconds, "seconds to connect, and for each reply")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  // Global options may follow the subcommand too (`railctl vips --json`).
  app.fallthrough();
  add_api_read_commands(app, action, s);
  add_api_vip_commands(app, action, s);
  add_api_backend_commands(app, action, s);
}

}  // namespace rail::railctl
