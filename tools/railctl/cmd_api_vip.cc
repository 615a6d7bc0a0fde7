// The VIP subcommands: add-vip (a YAML or JSON document sent as JSON), remove-vip, reload.
//
// add-vip reads one VIP in the config file's shape (docs/config.md `vips`), from a file or
// stdin. It is parsed as YAML, of which JSON is a subset, so both work; a document with a
// `vips:` list of exactly one VIP (a pasted config fragment) is accepted too. The API takes
// JSON, so YAML scalars are given JSON types the way the config loader would read them.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "tools/railctl/api_client.h"

namespace rail::railctl {
namespace {

using nlohmann::json;

bool is_integer(const std::string& s) {
  const size_t start = !s.empty() && s[0] == '-';
  return s.size() > start && s.size() - start <= 18 &&
         s.find_first_not_of("0123456789", start) == std::string::npos;
}

// Plain scalars: null, true/false and decimal integers get their JSON types (the loader's
// strict types, docs/config.md); quoted scalars and everything else stay strings.
json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json j = json::object();
      for (const auto& kv : node) j[kv.first.as<std::string>()] = to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      json j = json::array();
      for (const auto& item : node) j.push_back(to_json(item));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() != "?") return s;  // quoted ("!") or explicitly tagged
      if (s == "true" || s == "false") return s == "true";
      if (s == "null" || s == "~" || s.empty()) return nullptr;
      if (is_integer(s)) return std::stoll(s);
      return s;
    }
    default:
      return nullptr;
  }
}

Result<std::string> read_input(const std::string& file) {
  std::stringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(file);
    if (!in) return make_error(ErrorCode::kInvalidArgument, "cannot read " + file);
    text << in.rdbuf();
  }
  return text.str();
}

// The VIP as the API's JSON body, or a usage error naming what is wrong with the input.
Result<json> vip_document(const std::string& file) {
  auto text = read_input(file);
  if (!text) return text.error();
  const std::string where = file == "-" ? "stdin" : file;
  json vip;
  try {
    vip = to_json(YAML::Load(*text));
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::kInvalidArgument, where + ": not YAML or JSON: " + e.what());
  }
  if (vip.is_object() && vip.contains("vips")) {
    if (vip.size() != 1 || !vip["vips"].is_array() || vip["vips"].size() != 1)
      return make_error(ErrorCode::kInvalidArgument,
                        where + ": a `vips:` document must hold exactly one VIP and nothing else");
    vip = vip["vips"][0];
  }
  if (!vip.is_object())
    return make_error(ErrorCode::kInvalidArgument,
                      where + ": expected one VIP (a mapping with name, address, port, pool...)");
  return vip;
}

int run_add_vip(const ApiSettings& s, const std::string& file) {
  auto vip = vip_document(file);
  if (!vip) {
    std::fprintf(stderr, "error: %s\n", vip.error().message.c_str());
    return kExitUsage;
  }
  const std::string name =
      vip->contains("name") && (*vip)["name"].is_string() ? (*vip)["name"].get<std::string>() : "?";
  return api_change(s, "POST", "/v1/vips", vip->dump(), "added VIP " + name);
}

}  // namespace

void add_api_vip_commands(CLI::App& app, Action& action, std::shared_ptr<ApiSettings> s) {
  auto file = std::make_shared<std::string>();
  CLI::App* add = app.add_subcommand("add-vip", "add a VIP from a YAML/JSON file (- = stdin)");
  add->add_option("FILE", *file, "one VIP in the config's shape (docs/config.md)")->required();
  add->callback([s, file, &action] { action = [s, file] { return run_add_vip(*s, *file); }; });

  auto name = std::make_shared<std::string>();
  CLI::App* remove = app.add_subcommand("remove-vip", "remove a VIP");
  remove->add_option("NAME", *name, "the VIP's name")->required();
  remove->callback([s, name, &action] {
    action = [s, name] {
      return api_change(*s, "DELETE", "/v1/vips/" + url_segment(*name), "", "removed VIP " + *name);
    };
  });

  app.add_subcommand("reload", "re-read raild's config file (API edits are replaced)")
      ->callback([s, &action] {
        action = [s] { return api_change(*s, "POST", "/v1/reload", "", "reloaded"); };
      });
}

}  // namespace rail::railctl
