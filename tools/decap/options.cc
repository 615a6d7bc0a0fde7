// rail-decap's argument parser: long options only, each value checked where it is read.
#include "tools/decap/options.h"

#include <charconv>

namespace rail::decap_cmd {

const char* const kUsage =
    "usage: rail-decap --interface IF [--interface IF2 ...] (--address ADDR ... | --any-address)\n"
    "                  [--mode tc|xdp|xdp-generic] [--gue-port PORT] [--stats-interval DURATION]\n"
    "                  [--json] [--check-only]\n"
    "Strips Rail's GRE / IPIP / IPv6-in-IP / GUE tunnels from packets to the given tunnel\n"
    "endpoint addresses, in the foreground, until SIGTERM or SIGINT. See docs/decap.md.\n";

const char* to_string(AttachMode mode) {
  switch (mode) {
    case AttachMode::kTc:
      return "tc";
    case AttachMode::kXdp:
      return "xdp";
    case AttachMode::kXdpGeneric:
      return "xdp-generic";
  }
  return "?";
}

Result<DecapCommandOptions> parse_options(const std::vector<std::string>& args) {
  DecapCommandOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string name = arg, value;
    bool has_inline = false;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_inline = true;
    }
    auto take_value = [&]() -> Result<std::string> {
      if (has_inline) return value;
      if (i + 1 >= args.size()) {
        return make_error(ErrorCode::kInvalidArgument, name + " needs a value");
      }
      return args[++i];
    };
    auto no_value = [&]() -> Status {
      if (has_inline) return make_error(ErrorCode::kInvalidArgument, name + " takes no value");
      return ok();
    };
    if (name == "--interface" || name == "-i") {
      auto v = take_value();
      if (!v) return v.error();
      if (v->empty() || v->size() >= 16) {
        return make_error(ErrorCode::kInvalidArgument, "--interface: bad name '" + *v + "'");
      }
      o.interfaces.push_back(*v);
    } else if (name == "--address" || name == "-a") {
      auto v = take_value();
      if (!v) return v.error();
      auto a = IpAddress::parse(*v);
      if (!a) return make_error(ErrorCode::kInvalidArgument, "--address: " + a.error().message);
      o.addresses.push_back(*a);
    } else if (name == "--any-address") {
      RAIL_TRY(no_value());
      o.any_address = true;
    } else if (name == "--mode") {
      auto v = take_value();
      if (!v) return v.error();
      if (*v == "tc") {
        o.mode = AttachMode::kTc;
      } else if (*v == "xdp") {
        o.mode = AttachMode::kXdp;
      } else if (*v == "xdp-generic") {
        o.mode = AttachMode::kXdpGeneric;
      } else {
        return make_error(ErrorCode::kInvalidArgument,
                          "--mode: '" + *v + "' is not tc, xdp or xdp-generic");
      }
    } else if (name == "--gue-port") {
      auto v = take_value();
      if (!v) return v.error();
      unsigned port = 0;
      auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), port);
      if (ec != std::errc() || end != v->data() + v->size() || port == 0 || port > 65535) {
        return make_error(ErrorCode::kInvalidArgument, "--gue-port: '" + *v + "' is not 1..65535");
      }
      o.gue_port = static_cast<uint16_t>(port);
    } else if (name == "--stats-interval") {
      auto v = take_value();
      if (!v) return v.error();
      auto d = parse_duration(*v, kStatsIntervalDurations);
      if (!d)
        return make_error(ErrorCode::kInvalidArgument, "--stats-interval: " + d.error().message);
      o.stats_interval = *d;
    } else if (name == "--json") {
      RAIL_TRY(no_value());
      o.json = true;
    } else if (name == "--check-only") {
      RAIL_TRY(no_value());
      o.check_only = true;
    } else if (name == "--help" || name == "-h") {
      o.help = true;
      return o;
    } else {
      return make_error(ErrorCode::kInvalidArgument, "unknown argument '" + arg + "'");
    }
  }
  if (o.interfaces.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "at least one --interface is required");
  }
  if (o.any_address == !o.addresses.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      o.any_address
                          ? "--any-address and --address exclude each other"
                          : "give the tunnel endpoint addresses (--address) or --any-address");
  }
  return o;
}

}  // namespace rail::decap_cmd
