// Shared fixture of the controller and API tests: a config on disk, a ReferenceDataPlane, fixed
// next hops, a Controller over them, and frames pushed through to see where they go.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "daemon/config/yaml_loader.h"
#include "daemon/controller/controller.h"
#include "daemon/controller/reference_data_plane.h"
#include "golden/golden_world.h"
#include "unit/controller_world_yaml.h"

namespace rail::daemon::testing {

inline IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

class ControllerWorld {
 public:
  explicit ControllerWorld(const std::string& check = "type: none", bool health_checks = false,
                           const std::string& backends = "[198.18.1.1, 198.18.1.2, 198.18.1.3]") {
    dir_ = std::filesystem::temp_directory_path() /
           ("rail-controller-" + std::to_string(::getpid()) + "-" + std::to_string(++counter()));
    std::filesystem::create_directories(dir_);
    config_path_ = (dir_ / "rail.yaml").string();
    write(world_yaml(dir_.string(), check, backends));
    for (const char* a :
         {"198.18.1.1", "198.18.1.2", "198.18.1.3", "198.18.1.4", "127.0.0.1", "127.0.0.2"})
      macs_.set(ip(a), *MacAddress::parse("02:00:00:00:0c:01"));
    log_ = std::make_unique<EventLog>(LogLevel::kInfo, [this](const std::string& l) {
      std::lock_guard lock(log_mu_);
      lines_.push_back(l);
    });
    auto config = load_config_file(config_path_);
    EXPECT_TRUE(config) << config.error().message;
    ControllerOptions options;
    options.config_path = config_path_;
    options.health_checks = health_checks;
    options.health.jitter = 0;
    options.health.trigger_min_gap = Millis(0);
    auto c = Controller::create(*config, {}, plane_, macs_, *log_, options);
    EXPECT_TRUE(c) << c.error().message;
    if (c) controller_ = std::move(*c);
  }
  ~ControllerWorld() {
    controller_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void write(const std::string& yaml) {
    FILE* f = std::fopen(config_path_.c_str(), "w");
    std::fputs(yaml.c_str(), f);
    std::fclose(f);
  }
  Controller& c() { return *controller_; }
  ReferenceDataPlane& plane() { return plane_; }
  const std::filesystem::path& dir() const { return dir_; }

  // Where a packet of client flow `sport` goes: "198.18.1.2", or "-" if not transmitted.
  std::string send(uint16_t sport, bool syn) {
    auto b = golden::tcp4(ip("198.18.200.1"), sport, ip("198.18.100.1"), 80);
    const golden::Bytes frame = golden::from_router((syn ? b.syn() : b.ack()).build());
    std::vector<uint8_t> out;
    const Verdict v = plane_.process(frame, ++now_ * 1000, out);
    if (v.action != RAIL_VERDICT_TX) return "-";
    auto a = plane_.backend_address(v.backend_id);
    return a ? a->to_string() : "?";
  }
  // Backends new flows land on over 200 flows.
  std::set<std::string> spread(uint16_t first_port = 10000) {
    std::set<std::string> seen;
    for (uint16_t p = first_port; p < first_port + 200; ++p) seen.insert(send(p, true));
    return seen;
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(log_mu_);
    return lines_;
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path dir_;
  std::string config_path_;
  FixedNextHops macs_;
  ReferenceDataPlane plane_;
  std::mutex log_mu_;
  std::vector<std::string> lines_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<Controller> controller_;
  uint64_t now_ = 1'000'000;
};

}  // namespace rail::daemon::testing
