// The live raild test world, shared by the tests that run the real daemon: namespaces
// (switch, client, rail, three backends with the VIP on lo and the decap program), real TCP
// servers, the raild child process, its HTTP API and /metrics, and a temp dir.
//
// through its health checks, its HTTP API, SIGHUP and SIGTERM (docs/raild.md, docs/api.md).
//
//   client ns  c0 ─┐
//   rail ns    r0 ─┼─ switch ns: br0 (pc, pr, pb1..pb3)   pr runs XDP_PASS so r0's XDP_TX works
//   backend ns b0 ─┘ (x3: VIP on lo, DecapProgram on tc ingress, replies go direct: DSR)
//
// raild runs under `ip netns exec`, which also gives it a private mount namespace: its bpffs
// (mounted under the test's temp dir) and every pin in it vanish when raild exits.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/decap_program.h"
#include "dataplane/libbpf_error.h"
#include "dataplane/skeleton.h"
#include "dataplane/xdp_attachment.h"
#include "e2e_sockets.h"
#include "netns.h"
#include "trivial.skel.h"

#ifndef RAIL_RAILD_PATH
#error "RAIL_RAILD_PATH (the raild binary) must be defined by the build"
#endif

namespace rail::e2e::raild_live {

RAIL_BPF_SKELETON_TRAITS(trivial_bpf);

using dataplane::DecapProgram;
using e2e::Fd;
using e2e::Netns;
using e2e::sockaddr_v4;
using e2e::VethPair;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kClientIp = "198.18.0.10";
constexpr const char* kRailIp = "198.18.0.1";
constexpr const char* kVip = "198.18.100.1";
constexpr int kBackends = 3;
constexpr uint16_t kPort = 8080;
constexpr uint16_t kApiPort = 9180;  // in the rail namespace's own loopback: never taken
constexpr int kFlows = 30;           // connections per batch, each from a fresh source port

// Backends are numbered 1..3 as in the scenario ("stop backend 2", "drain backend 1").
inline std::string backend_ip(int n) {
  return "198.18.0." + std::to_string(20 + n);
}
inline std::string backend_name(int n) {
  return "b" + std::to_string(n);
}

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Polls `done` every 20 ms until it holds (the seconds it took) or `limit` passes (nullopt).
inline std::optional<double> wait_until(const std::function<bool()>& done, double limit) {
  const auto start = Clock::now();
  for (;;) {
    if (done()) return seconds_since(start);
    if (seconds_since(start) > limit) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A TCP socket with bounded blocking calls (connect included: SO_SNDTIMEO), created on the
// calling thread, so in that thread's namespace.
inline Result<Fd> tcp_socket(int timeout_ms) {
  Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.fd < 0) return dataplane::errno_error("socket");
  int one = 1;
  setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  timeval timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  return s;
}

// Reads until EOF (or timeout / error: what arrived so far).
inline std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return out;
    out.append(buf, size_t(n));
  }
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// A real TCP server in a backend namespace: answers every connection with its name and closes.
// The listener is created in the namespace; accept() then works from any thread.
class BackendServer {
 public:
  BackendServer(const Netns& ns, std::string name) : ns_(ns), name_(std::move(name)) {}
  ~BackendServer() { stop(); }

  Status start() {
    Fd listener;
    Status st = ns_.run([&]() -> Status {
      auto s = tcp_socket(1000);
      if (!s) return s.error();
      sockaddr_in any = sockaddr_v4("0.0.0.0", kPort);  // the VIP (lo) and the check address
      if (bind(s->fd, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0)
        return dataplane::errno_error("bind");
      if (listen(s->fd, 64) != 0) return dataplane::errno_error("listen");
      listener = std::move(*s);
      return ok();
    });
    if (!st) return st;
    stop_ = false;
    thread_ = std::thread([this, l = std::move(listener)] { serve(l.fd); });
    return ok();
  }

  // Closes the listener: health checks and new connections get "connection refused".
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void serve(int listener) {
    const std::string answer = name_ + "\n";
    while (!stop_) {
      pollfd p{listener, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      Fd conn(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
      if (conn.fd < 0) continue;
      timeval timeout{1, 0};
      setsockopt(conn.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
      (void)!send(conn.fd, answer.data(), answer.size(), MSG_NOSIGNAL);
    }
  }

  const Netns& ns_;
  std::string name_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The raild child, started under `ip netns exec` (same pid: ip execs raild). The destructor
// kills it if the test did not stop it, so no daemon outlives a failed test; PDEATHSIG covers a
// test process that dies without running destructors.
class RaildProcess {
 public:
  ~RaildProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

  Status start(const std::string& ns, const std::string& config, const std::string& log) {
    std::string ip = "ip";
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
      if (access(p, X_OK) == 0) ip = p;
    std::vector<std::string> args = {ip, "netns", "exec", ns, RAIL_RAILD_PATH, "--config", config};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) return dataplane::errno_error("open " + log);
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      dup2(out, 1);
      dup2(out, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out);
    if (pid_ < 0) return dataplane::errno_error("fork");
    return ok();
  }

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_status_ = status;
      return false;
    }
    return true;
  }

  void signal(int sig) const {
    if (pid_ > 0) kill(pid_, sig);
  }

  // SIGTERM, then waits up to `limit` seconds: the time it took, or nullopt (then SIGKILL).
  std::optional<double> terminate(double limit) {
    signal(SIGTERM);
    auto took = wait_until([&] { return !running(); }, limit);
    if (!took && pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    return took;
  }

  int exit_status() const { return exit_status_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

// Runs argv (no shell) with stdout+stderr into `output`; the exit code, or -1.
inline int run_program(const std::vector<std::string>& args, std::string& output,
                       const std::string& capture) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int out = open(capture.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out, 1);
    dup2(out, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  output = read_file(capture);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct HttpResponse {
  int status = 0;
  std::string body;
};

// A unique temp dir, removed with everything in it (raild's bpffs lived in raild's own mount
// namespace, so only plain files are left here). The name carries the pid so that dirs of
// runs killed by a signal (no destructors) are swept by the next run, as Netns does.
class TempDir {
 public:
  TempDir() {
    const std::string prefix = "rail-e2e-raild-";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
      const std::string name = entry.path().filename();
      if (name.rfind(prefix, 0) != 0) continue;
      const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
      if (pid > 0 && kill(pid_t(pid), 0) != 0 && errno == ESRCH)
        std::filesystem::remove_all(entry.path(), ec);
    }
    std::string tmpl = "/tmp/" + prefix + std::to_string(getpid()) + "-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class RaildLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp: " << strerror(errno);
    for (const char* role : {"switch", "client", "rail", "b1", "b2", "b3"}) {
      auto ns = Netns::create(role);
      ASSERT_TRUE(ns) << ns.error().describe();
      namespaces_.push_back(std::move(*ns));
    }
    // One L2 segment: every node's veth peer is a port of br0 in the switch namespace.
    const std::vector<std::pair<const char*, const char*>> links = {
        {"c0", "pc"}, {"r0", "pr"}, {"b0", "pb1"}, {"b0", "pb2"}, {"b0", "pb3"}};
    for (size_t i = 0; i < links.size(); ++i) {
      auto veth = VethPair::create(namespaces_[i + 1], links[i].first, sw(), links[i].second);
      ASSERT_TRUE(veth) << veth.error().describe();
      veths_.push_back(std::move(*veth));
    }
    exec(sw(), "ip link add br0 type bridge");
    exec(sw(), "ip link set br0 up");
    for (const auto& [node_if, port] : links)
      exec(sw(), std::string("ip link set ") + port + " master br0");

    exec(client(), std::string("ip addr add ") + kClientIp + "/24 dev c0");
    exec(rail(), std::string("ip addr add ") + kRailIp + "/24 dev r0");
    const std::string client_mac = mac_of(client(), "c0");
    const std::string rail_mac = mac_of(rail(), "r0");
    exec(client(), std::string("ip route add ") + kVip + "/32 via " + kRailIp);
    exec(client(), std::string("ip neigh replace ") + kRailIp + " lladdr " + rail_mac +
                       " dev c0 nud permanent");
    for (int n = 1; n <= kBackends; ++n) {
      const Netns& b = backend(n);
      exec(b, "ip addr add " + backend_ip(n) + "/24 dev b0");
      exec(b, std::string("ip addr add ") + kVip + "/32 dev lo");
      // DSR backend settings (docs/decap.md): no ARP for the VIP, rp_filter off.
      for (const char* sysctl :
           {"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.b0.rp_filter=0",
            "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"}) {
        exec(b, std::string("sysctl -qw ") + sysctl);
      }
      exec(b, std::string("ip neigh replace ") + kClientIp + " lladdr " + client_mac +
                  " dev b0 nud permanent");
      // raild takes next-hop MACs from the neighbour table: static entries, no ARP race.
      exec(rail(), "ip neigh replace " + backend_ip(n) + " lladdr " + mac_of(b, "b0") +
                       " dev r0 nud permanent");
    }
    if (HasFatalFailure()) return;

    // XDP_TX out of r0 is delivered only if its peer (pr) runs an XDP program too.
    auto trivial = dataplane::BpfSkeleton<trivial_bpf_traits>::open();
    ASSERT_TRUE(trivial) << trivial.error().describe();
    trivial_.emplace(std::move(*trivial));
    Status loaded = trivial_->load();
    ASSERT_TRUE(loaded) << loaded.error().describe();
    Status peer = sw().run([&]() -> Status {
      auto a = dataplane::XdpAttachment::attach("pr", bpf_program__fd((*trivial_)->progs.xdp_pass),
                                                dataplane::XdpMode::kNative);
      if (!a) return a.error();
      peer_pass_.emplace(std::move(*a));
      return ok();
    });
    ASSERT_TRUE(peer) << peer.error().describe();

    for (int n = 1; n <= kBackends; ++n) {
      auto program = DecapProgram::load();
      ASSERT_TRUE(program) << program.error().describe();
      ASSERT_TRUE(program->add_address(*IpAddress::parse(backend_ip(n))));
      decaps_.push_back(std::move(*program));
      Status attached = backend(n).run([&] { return decaps_.back().attach_tc("b0"); });
      ASSERT_TRUE(attached) << attached.error().describe();
      servers_.push_back(std::make_unique<BackendServer>(backend(n), backend_name(n)));
      Status serving = servers_.back()->start();
      ASSERT_TRUE(serving) << serving.error().describe();
    }

    config_path_ = dir_.path() + "/rail.yaml";
    log_path_ = dir_.path() + "/raild.log";
    ASSERT_EQ(mkdir((dir_.path() + "/state").c_str(), 0700), 0);
    write_file(config_path_, config_text());
  }

  // raild first (it is in the namespaces), then programs, servers, veths, namespaces.
  void TearDown() override {
    raild_.reset();
    servers_.clear();
    decaps_.clear();
    peer_pass_.reset();
    trivial_.reset();
    veths_.clear();
    namespaces_.clear();
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

  const Netns& sw() const { return namespaces_[0]; }
  const Netns& client() const { return namespaces_[1]; }
  const Netns& rail() const { return namespaces_[2]; }
  const Netns& backend(int n) const { return namespaces_[2 + size_t(n)]; }

  void exec(const Netns& ns, const std::string& command) {
    auto r = ns.exec(command);
    ASSERT_TRUE(r) << r.error().describe();
  }

  std::string mac_of(const Netns& ns, const std::string& ifname) {
    auto r = ns.exec("cat /sys/class/net/" + ifname + "/address");  // netns exec remounts /sys
    EXPECT_TRUE(r) << r.error().describe();
    if (!r) return "";
    std::string text = *r;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
  }

  Status start_raild() {
    raild_ = std::make_unique<RaildProcess>();
    return raild_->start(rail().name(), config_path_, log_path_);
  }

  // One HTTP/1.1 request to raild's API, from the rail namespace (Connection: close, so the
  // response ends at EOF; httplib answers with Content-Length, never chunked, for these).
  HttpResponse http(const std::string& method, const std::string& path,
                    const std::string& body = "") {
    HttpResponse response;
    Status st = rail().run([&]() -> Status {
      auto s = tcp_socket(2000);
      if (!s) return s.error();
      sockaddr_in api = sockaddr_v4("127.0.0.1", kApiPort);
      if (connect(s->fd, reinterpret_cast<sockaddr*>(&api), sizeof(api)) != 0)
        return dataplane::errno_error("connect api");
      const std::string request = method + " " + path +
                                  " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                                  "Content-Type: application/json\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body;
      if (send(s->fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
        return dataplane::errno_error("send api");
      const std::string raw = read_all(s->fd);
      const size_t space = raw.find(' ');
      const size_t end = raw.find("\r\n\r\n");
      if (space == std::string::npos || end == std::string::npos)
        return make_error(ErrorCode::kSystem, "bad HTTP response: " + raw);
      response.status = std::atoi(raw.c_str() + space + 1);
      response.body = raw.substr(end + 4);
      return ok();
    });
    if (!st) response.body = st.error().describe();  // status 0: not reachable
    return response;
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
        if (bind(s->fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0)
          return dataplane::errno_error("bind client");
        sockaddr_in vip = sockaddr_v4(kVip, kPort);
        std::string got;
        if (connect(s->fd, reinterpret_cast<sockaddr*>(&vip), sizeof(vip)) == 0)
          got = read_all(s->fd);
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

  TempDir dir_;
  std::vector<Netns> namespaces_;  // switch, client, rail, b1..b3
  std::vector<VethPair> veths_;
  std::optional<dataplane::BpfSkeleton<trivial_bpf_traits>> trivial_;
  std::optional<dataplane::XdpAttachment> peer_pass_;
  std::vector<DecapProgram> decaps_;
  std::vector<std::unique_ptr<BackendServer>> servers_;  // servers_[n - 1] is backend n
  std::unique_ptr<RaildProcess> raild_;
  std::string config_path_, log_path_;
  uint16_t next_source_port_ = 40000;
};

}  // namespace rail::e2e::raild_live
