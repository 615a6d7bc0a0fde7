// The backend subcommands: add-backend, remove-backend, weight, drain, undrain, force. Values
// are checked here before anything is sent, so a typo is a usage error (exit 2) that cannot
// change the balancer; the API checks everything again.
#include <string>

#include "tools/railctl/api_client.h"

namespace rail::railctl {
namespace {

using nlohmann::json;

struct BackendArgs {
  std::string pool;
  std::string address;
  std::string weight;  // text: "-3" and "abc" get our message, not a CLI11 conversion error
  std::string name;
  std::string state;
};

// A weight: a whole number 0..65535 (docs/config.md), else a usage error on stderr.
bool parse_weight(const std::string& text, uint32_t& weight) {
  const bool digits = !text.empty() && text.size() <= 5 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  if (digits) weight = static_cast<uint32_t>(std::stoul(text));
  if (!digits || weight > 65535) {
    std::fprintf(stderr, "error: weight \"%s\" is not a whole number 0..65535\n", text.c_str());
    return false;
  }
  return true;
}

void positional(CLI::App* cmd, BackendArgs& a) {
  cmd->add_option("POOL", a.pool, "the pool's name")->required();
  cmd->add_option("ADDRESS", a.address, "the backend's address")->required();
}

int run_add(const ApiSettings& s, const BackendArgs& a) {
  json body = {{"address", a.address}};
  if (!a.weight.empty()) {
    uint32_t w = 0;
    if (!parse_weight(a.weight, w)) return kExitUsage;
    body["weight"] = w;
  }
  if (!a.name.empty()) body["name"] = a.name;
  return api_change(s, "POST", "/v1/pools/" + url_segment(a.pool) + "/backends", body.dump(),
                    "added backend " + a.address + " to pool " + a.pool);
}

int run_weight(const ApiSettings& s, const BackendArgs& a) {
  uint32_t w = 0;
  if (!parse_weight(a.weight, w)) return kExitUsage;
  return api_change(s, "PUT", backend_path(a.pool, a.address) + "/weight",
                    json{{"weight", w}}.dump(),
                    "weight of " + a.address + " in pool " + a.pool + " is " + std::to_string(w));
}

int run_force(const ApiSettings& s, const BackendArgs& a) {
  if (a.state != "up" && a.state != "down" && a.state != "none") {
    std::fprintf(stderr, "error: state \"%s\" is not up, down or none\n", a.state.c_str());
    return kExitUsage;
  }
  const std::string done = a.state == "none"
                               ? a.address + " in pool " + a.pool + " follows its health again"
                               : a.address + " in pool " + a.pool + " forced " + a.state;
  return api_change(s, "POST", backend_path(a.pool, a.address) + "/force",
                    json{{"state", a.state}}.dump(), done);
}

}  // namespace

void add_api_backend_commands(CLI::App& app, Action& action, std::shared_ptr<ApiSettings> s) {
  auto a = std::make_shared<BackendArgs>();

  CLI::App* add = app.add_subcommand("add-backend", "add a backend to a pool");
  positional(add, *a);
  add->add_option("--weight", a->weight, "weight 0..65535 (default 1)");
  add->add_option("--name", a->name, "stable Maglev identity (default: the address)");
  add->callback([s, a, &action] { action = [s, a] { return run_add(*s, *a); }; });

  CLI::App* remove = app.add_subcommand("remove-backend", "remove a backend from a pool");
  positional(remove, *a);
  remove->callback([s, a, &action] {
    action = [s, a] {
      return api_change(*s, "DELETE", backend_path(a->pool, a->address), "",
                        "removed backend " + a->address + " from pool " + a->pool);
    };
  });

  CLI::App* weight = app.add_subcommand("weight", "set a backend's weight");
  positional(weight, *a);
  weight->add_option("WEIGHT", a->weight, "0..65535; 0 drains")->required();
  weight->callback([s, a, &action] { action = [s, a] { return run_weight(*s, *a); }; });

  for (const bool drain : {true, false}) {
    const std::string verb = drain ? "drain" : "undrain";
    CLI::App* cmd =
        app.add_subcommand(verb, drain ? "stop new flows to a backend (established flows stay)"
                                       : "give a drained backend its weight back");
    positional(cmd, *a);
    cmd->callback([s, a, verb, &action] {
      action = [s, a, verb] {
        return api_change(*s, "POST", backend_path(a->pool, a->address) + "/" + verb, "",
                          verb + "ed " + a->address + " in pool " + a->pool);
      };
    });
  }

  CLI::App* force = app.add_subcommand("force", "override health: down, up, or none (clear)");
  positional(force, *a);
  force->add_option("STATE", a->state, "down | up | none")->required();
  force->callback([s, a, &action] { action = [s, a] { return run_force(*s, *a); }; });
}

}  // namespace rail::railctl
