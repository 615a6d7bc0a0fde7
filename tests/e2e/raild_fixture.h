// The live raild test world, shared by the tests that run the real daemon (health checks, HTTP
// API, SIGHUP and SIGTERM: docs/raild.md, docs/api.md): the one-node topology
// (single_node_topology.h), a TCP server per backend answering its name, the raild child with
// its config, state and log in a temp dir, and helpers for its API, /metrics and new flows.
//
// raild runs under `ip netns exec`, which also gives it a private mount namespace: its bpffs
// (mounted under the test's temp dir) and every pin in it vanish when raild exits.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "backend_server.h"
#include "dataplane/libbpf_error.h"
#include "e2e_sockets.h"
#include "netns.h"
#include "raild_api.h"
#include "raild_process.h"
#include "single_node_topology.h"
#include "test_dir.h"

namespace rail::e2e::raild_live {

using e2e::BackendServer;
using e2e::Clock;
using e2e::HttpResponse;
using e2e::Netns;
using e2e::RaildProcess;
using e2e::read_file;
using e2e::read_to_eof;
using e2e::seconds_since;
using e2e::SingleNodeTopology;
using e2e::sockaddr_v4;
using e2e::tcp_socket;
using e2e::TempDir;
using e2e::wait_until;
using e2e::write_file;
using json = nlohmann::json;

constexpr const char* kClientIp = SingleNodeTopology::kClientIp;
constexpr const char* kRailIp = SingleNodeTopology::kRailIp;
constexpr const char* kVip = SingleNodeTopology::kVip;
constexpr int kBackends = 3;
constexpr uint16_t kPort = 8080;
constexpr uint16_t kApiPort = 9180;  // in the rail namespace's own loopback: never taken
constexpr int kFlows = 30;           // connections per batch, each from a fresh source port

// Backends are numbered 1..3 as in the scenario ("stop backend 2", "drain backend 1").
inline std::string backend_ip(int n) {
  return SingleNodeTopology::backend_ip(n - 1);
}
inline std::string backend_name(int n) {
  return "b" + std::to_string(n);
}

class RaildLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp: " << strerror(errno);
    auto topology = SingleNodeTopology::create({.backends = kBackends});
    ASSERT_TRUE(topology) << topology.error().describe();
    topology_ = std::move(*topology);
    for (int n = 1; n <= kBackends; ++n) {
      servers_.push_back(std::make_unique<BackendServer>(backend(n), backend_name(n), kPort));
      Status serving = servers_.back()->start();
      ASSERT_TRUE(serving) << serving.error().describe();
    }
    config_path_ = dir_.path() + "/rail.yaml";
    log_path_ = dir_.path() + "/raild.log";
    ASSERT_EQ(mkdir((dir_.path() + "/state").c_str(), 0700), 0);
    write_file(config_path_, config_text());
  }

  // raild first (it is in the namespaces), then servers, then the topology.
  void TearDown() override {
    raild_.reset();
    servers_.clear();
    topology_.reset();
  }

  std::string config_text(const std::string& interval = "200ms") const {
    std::string text =
        "# raild_live_test: written by the test\n"
        "node:\n"
        "  interfaces: [r0]\n"
        "  xdp_mode: native\n"
        "  outer_source_v4: " +
        std::string(kRailIp) +
        "\n"
        "  api:\n"
        "    listen: 127.0.0.1:" +
        std::to_string(kApiPort) +
        "\n"
        "  bpffs_dir: " +
        dir_.path() +
        "/bpffs/rail\n"
        "  state_file: " +
        dir_.path() +
        "/state/running.yaml\n"
        "pools:\n"
        "  - name: web\n"
        "    backends:\n";
    for (int n = 1; n <= kBackends; ++n)
      text += "      - { address: " + backend_ip(n) + ", name: " + backend_name(n) + " }\n";
    text +=
        "    check:\n"
        "      type: tcp\n"
        "      port: " +
        std::to_string(kPort) +
        "\n"
        "      interval: " +
        interval +
        "\n"
        "      timeout: 200ms\n"
        "      rise: 2\n"
        "      fall: 2\n"
        "vips:\n"
        "  - name: www\n"
        "    address: " +
        kVip +
        "\n"
        "    protocol: tcp\n"
        "    port: " +
        std::to_string(kPort) +
        "\n"
        "    table_size: 251\n"
        "    pool: web\n";
    return text;
  }

  const Netns& sw() const { return topology_->sw(); }
  const Netns& client() const { return topology_->client(); }
  const Netns& rail() const { return topology_->rail(); }
  const Netns& backend(int n) const { return topology_->backend(n - 1); }

  void exec(const Netns& ns, const std::string& command) {
    auto r = ns.exec(command);
    ASSERT_TRUE(r) << r.error().describe();
  }

  Status start_raild() {
    raild_ = std::make_unique<RaildProcess>();
    return raild_->start(rail().name(), config_path_, log_path_);
  }

  // One request to raild's API, from the rail namespace.
  HttpResponse http(const std::string& method, const std::string& path,
                    const std::string& body = "") {
    return e2e::http_request(rail(), kApiPort, method, path, body);
  }

  // GET /v1/vips/www's backends by name (empty when the API does not answer).
  std::map<std::string, json> backends_view() {
    std::map<std::string, json> out;
    HttpResponse r = http("GET", "/v1/vips/www");
    if (r.status != 200) return out;
    json vip = json::parse(r.body, nullptr, false);
    if (vip.is_discarded() || !vip.contains("backends")) return out;
    for (const json& b : vip["backends"]) out[b.value("name", "")] = b;
    return out;
  }

  bool backend_state_is(int n, const std::string& state) {
    auto view = backends_view();
    auto it = view.find(backend_name(n));
    return it != view.end() && it->second.value("state", "") == state;
  }

  // Every backend "up" in one GET /v1/vips/www.
  bool all_backends_up() {
    auto view = backends_view();
    for (int n = 1; n <= kBackends; ++n) {
      auto it = view.find(backend_name(n));
      if (it == view.end() || it->second.value("state", "") != "up") return false;
    }
    return true;
  }

  // The value of rail_backend_up for backend n in a /metrics body, or -1.
  static int backend_up_metric(const std::string& metrics, int n) {
    std::istringstream lines(metrics);
    const std::string label = "backend=\"" + backend_ip(n) + "\"";
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("rail_backend_up{", 0) != 0 || line.find(label) == std::string::npos) continue;
      return std::atoi(line.c_str() + line.rfind(' ') + 1);
    }
    return -1;
  }

  // kFlows TCP connections client -> VIP, each from a new source port (new flows, so each is
  // balanced afresh): how many each backend name answered, "fail" for those that did not.
  std::map<std::string, int> connect_batch(const char* label) {
    std::map<std::string, int> answers;
    Status st = client().run([&]() -> Status {
      int failures = 0;
      for (int f = 0; f < kFlows && failures < 3; ++f) {
        auto s = tcp_socket(500);
        if (!s) return s.error();
        sockaddr_in from = sockaddr_v4(kClientIp, next_source_port_++);
        if (bind(s->get(), reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0)
          return dataplane::errno_error("bind client");
        sockaddr_in vip = sockaddr_v4(kVip, kPort);
        std::string got;
        if (connect(s->get(), reinterpret_cast<sockaddr*>(&vip), sizeof(vip)) == 0)
          got = read_to_eof(s->get());
        if (!got.empty() && got.back() == '\n') {
          got.pop_back();
          ++answers[got];
        } else {
          ++answers["fail"];
          ++failures;  // a black hole costs 500 ms per try: give up early
        }
      }
      return ok();
    });
    if (!st) answers["error: " + st.error().describe()] = 1;
    std::printf("[ spread ] %s: %s\n", label, describe(answers).c_str());
    return answers;
  }

  static std::string describe(const std::map<std::string, int>& answers) {
    std::string out;
    for (const auto& [name, count] : answers) out += name + "=" + std::to_string(count) + " ";
    return out;
  }

  TempDir dir_{"rail-e2e-raild-"};
  std::unique_ptr<SingleNodeTopology> topology_;
  std::vector<std::unique_ptr<BackendServer>> servers_;  // servers_[n - 1] is backend n
  std::unique_ptr<RaildProcess> raild_;
  std::string config_path_, log_path_;
  uint16_t next_source_port_ = 40000;
};

}  // namespace rail::e2e::raild_live
