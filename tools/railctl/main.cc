// railctl: Rail's operator command line. Parses the subcommand and runs its action; CLI11's
// parse exceptions are caught here, the one boundary where they are thrown.
#include <cstdio>

#include "tools/railctl/subcommands.h"

int main(int argc, char** argv) {
  CLI::App app{"railctl: operate and analyse Rail load balancers"};
  app.require_subcommand(1);
  rail::railctl::Action action;
  rail::railctl::add_maglev_command(app, action);
  rail::railctl::add_simulate_command(app, action);
  rail::railctl::add_api_commands(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return rail::railctl::kExitUsage;
  }
  return action ? action() : rail::railctl::kExitUsage;
}
