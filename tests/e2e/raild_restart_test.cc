// Live raild restart: the real daemon binary balances a steady UDP stream; it is stopped with
// SIGTERM and a new raild is started with the same config while the stream runs. Every
// datagram of the established flows must arrive, each flow at the backend it had before
// (docs/raild.md "UPGRADES AND RESTARTS": the pinned XDP link keeps forwarding, the next raild
// adopts maps, ids and link; health checks restart from the last verdicts).
//
//   client ns  c0 ─┐
//   rail ns    r0 ─┼─ switch ns: br0 (pc, pr, pb1..pb3)   pr runs XDP_PASS so r0's XDP_TX works
//   backend ns b0 ─┘ (x3: VIP on lo, DecapProgram on tc ingress, UDP sink, TCP check listener)
//
// Pins across two processes: raild runs under `ip netns exec`, which gives it a private mount
// namespace, so a bpffs that raild mounted itself would vanish with it. Instead the TEST mounts
// a bpffs at <tmp>/bpffs in its own mount namespace before starting raild (raild's
// ensure_bpffs then finds it already mounted). `ip netns exec` copies the test's mounts into
// raild's namespace, and the copy is the same bpffs instance, so both raild processes (and the
// test) see the same pins, which survive the first raild's exit. We keep `ip netns exec` rather
// than fork + setns(CLONE_NEWNET) because it also remounts /sys for the rail namespace, where
// raild reads r0's MAC (node.mac: auto). The test detaches (removes the pins) and unmounts.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

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
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/bpffs.h"
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

namespace rail {
namespace {

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
constexpr uint16_t kUdpPort = 5353;
constexpr uint16_t kCheckPort = 8080;
constexpr uint16_t kApiPort = 9181;  // in the rail namespace's own loopback: never taken
constexpr int kFlows = 8;
constexpr int kRate = 2000;  // datagrams per second, all flows together
constexpr uint16_t kFirstSourcePort = 43000;
constexpr const char* kDirPrefix = "rail-e2e-raildrestart-";

std::string backend_ip(int n) {
  return "198.18.0." + std::to_string(20 + n);
}
std::string backend_name(int n) {
  return "b" + std::to_string(n);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Polls `done` every 10 ms until it holds (the seconds it took) or `limit` passes (nullopt).
std::optional<double> wait_until(const std::function<bool()>& done, double limit) {
  const auto start = Clock::now();
  for (;;) {
    if (done()) return seconds_since(start);
    if (seconds_since(start) > limit) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// A socket of `type` with bounded blocking calls, bound to addr:port unless port is 0; created
// on the calling thread, so in its namespace.
Result<Fd> make_socket(int type, const std::string& addr, uint16_t port) {
  Fd s(socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (s.fd < 0) return dataplane::errno_error("socket");
  int one = 1;
  setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  timeval timeout{2, 0};
  setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  if (port != 0) {
    sockaddr_in sa = sockaddr_v4(addr, port);
    if (bind(s.fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
      return dataplane::errno_error("bind " + addr + ":" + std::to_string(port));
  }
  return s;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Unmounts (lazily) a bpffs at <dir>/bpffs, then removes dir. Removing the pins first drops
// the pinned links (no raild holds them any more), so nothing keeps forwarding.
void remove_test_dir(const std::string& dir) {
  std::error_code ec;
  const std::string bpffs = dir + "/bpffs";
  if (dataplane::is_bpffs(bpffs)) {
    std::filesystem::remove_all(bpffs + "/rail", ec);
    umount2(bpffs.c_str(), MNT_DETACH);
  }
  std::filesystem::remove_all(dir, ec);
}

// A unique temp dir holding the config, state, logs and the test's bpffs mount; removed (and
// unmounted) with everything in it. The name carries the pid so that dirs of runs killed by a
// signal (no destructors) are swept by the next run.
class TempDir {
 public:
  TempDir() {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
      const std::string name = entry.path().filename();
      if (name.rfind(kDirPrefix, 0) != 0) continue;
      const long pid = std::strtol(name.c_str() + std::strlen(kDirPrefix), nullptr, 10);
      if (pid > 0 && kill(pid_t(pid), 0) != 0 && errno == ESRCH) remove_test_dir(entry.path());
    }
    std::string tmpl = "/tmp/" + std::string(kDirPrefix) + std::to_string(getpid()) + "-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) remove_test_dir(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A raild child under `ip netns exec` (same pid: ip execs raild). The destructor kills it if
// the test did not stop it; PDEATHSIG covers a test process that dies without destructors.
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

  // SIGTERM, then waits up to `limit` seconds: true if it exited (else SIGKILL, false).
  bool terminate(double limit) {
    if (pid_ > 0) kill(pid_, SIGTERM);
    if (wait_until([&] { return !running(); }, limit)) return true;
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    return false;
  }

  int exit_status() const { return exit_status_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

class RaildRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp: " << strerror(errno);
    for (const char* role : {"switch", "client", "rail", "b1", "b2", "b3"}) {
      auto ns = Netns::create(role);
      ASSERT_TRUE(ns) << ns.error().describe();
      namespaces_.push_back(std::move(*ns));
    }
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
      for (const char* sysctl :
           {"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.b0.rp_filter=0",
            "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"}) {
        exec(b, std::string("sysctl -qw ") + sysctl);
      }
      exec(b, std::string("ip neigh replace ") + kClientIp + " lladdr " + client_mac +
                  " dev b0 nud permanent");
      exec(rail(), "ip neigh replace " + backend_ip(n) + " lladdr " + mac_of(b, "b0") +
                       " dev r0 nud permanent");
    }
    if (HasFatalFailure()) return;

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

    // Per backend: decap, a UDP sink on VIP:5353 and a TCP listener for the health checks.
    for (int n = 1; n <= kBackends; ++n) {
      auto program = DecapProgram::load();
      ASSERT_TRUE(program) << program.error().describe();
      ASSERT_TRUE(program->add_address(*IpAddress::parse(backend_ip(n))));
      decaps_.push_back(std::move(*program));
      Status attached = backend(n).run([&] { return decaps_.back().attach_tc("b0"); });
      ASSERT_TRUE(attached) << attached.error().describe();
      Status sockets = backend(n).run([&]() -> Status {
        auto sink = make_socket(SOCK_DGRAM, kVip, kUdpPort);
        if (!sink) return sink.error();
        int buf = 4 << 20;
        setsockopt(sink->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
        auto listener = make_socket(SOCK_STREAM, "0.0.0.0", kCheckPort);
        if (!listener) return listener.error();
        if (listen(listener->fd, 64) != 0) return dataplane::errno_error("listen");
        sinks_.push_back(std::move(*sink));
        listeners_.push_back(std::move(*listener));
        return ok();
      });
      ASSERT_TRUE(sockets) << sockets.error().describe();
    }
    receiver_ = std::thread([this] { receive(); });

    // The bpffs both raild processes share (see the top of the file).
    ASSERT_TRUE(dataplane::ensure_bpffs(dir_.path() + "/bpffs"));
    ASSERT_EQ(mkdir((dir_.path() + "/state").c_str(), 0700), 0);
    config_path_ = dir_.path() + "/rail.yaml";
    std::ofstream(config_path_, std::ios::trunc) << config_text();
  }

  // raild first, then pins and mount (TempDir), receiver, programs, veths, namespaces.
  void TearDown() override {
    raild_.reset();
    stop_receiver_ = true;
    if (receiver_.joinable()) receiver_.join();
    remove_test_dir_pins();
    sinks_.clear();
    listeners_.clear();
    decaps_.clear();
    peer_pass_.reset();
    trivial_.reset();
    veths_.clear();
    namespaces_.clear();
  }

  void remove_test_dir_pins() {
    std::error_code ec;
    std::filesystem::remove_all(dir_.path() + "/bpffs/rail", ec);
  }

  std::string config_text() const {
    std::string text = "# raild_restart_test: written by the test\n";
    text += "node:\n  interfaces: [r0]\n  xdp_mode: native\n";
    text += "  outer_source_v4: " + std::string(kRailIp) + "\n";
    text += "  api:\n    listen: 127.0.0.1:" + std::to_string(kApiPort) + "\n";
    text += "  bpffs_dir: " + dir_.path() + "/bpffs/rail\n";
    text += "  state_file: " + dir_.path() + "/state/running.yaml\n";
    text += "pools:\n  - name: web\n    backends:\n";
    for (int n = 1; n <= kBackends; ++n)
      text += "      - { address: " + backend_ip(n) + ", name: " + backend_name(n) + " }\n";
    text += "    check:\n      type: tcp\n      port: " + std::to_string(kCheckPort) + "\n";
    text += "      interval: 200ms\n      timeout: 200ms\n      rise: 2\n      fall: 2\n";
    text += "vips:\n  - name: dns\n    address: " + std::string(kVip) + "\n";
    text += "    protocol: udp\n    port: " + std::to_string(kUdpPort) + "\n";
    text += "    table_size: 251\n    pool: web\n";
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

  // Counts datagrams per (source port, backend) and accepts+closes health-check connections,
  // until told to stop and the sinks are dry.
  void receive() {
    std::vector<pollfd> p;
    for (const Fd& s : sinks_) p.push_back(pollfd{s.fd, POLLIN, 0});
    for (const Fd& l : listeners_) p.push_back(pollfd{l.fd, POLLIN, 0});
    for (;;) {
      for (auto& x : p) x.revents = 0;
      const int ready = poll(p.data(), p.size(), 200);
      if (ready <= 0) {
        if (stop_receiver_) return;
        continue;
      }
      for (size_t i = 0; i < p.size(); ++i) {
        if (!(p[i].revents & POLLIN)) continue;
        if (i >= sinks_.size()) {
          Fd conn(accept4(p[i].fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
          continue;
        }
        char buf[64];
        sockaddr_in from{};
        socklen_t len = sizeof(from);
        while (recvfrom(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from),
                        &len) > 0) {
          std::lock_guard<std::mutex> lock(mu_);
          ++received_[{ntohs(from.sin_port), int(i) + 1}];
          len = sizeof(from);
        }
      }
    }
  }

  Status start_raild(const std::string& log) {
    raild_ = std::make_unique<RaildProcess>();
    return raild_->start(rail().name(), config_path_, log);
  }

  // GET `path` from raild's API in the rail namespace: status (0 if unreachable) and body.
  std::pair<int, std::string> http_get(const std::string& path) {
    std::pair<int, std::string> response{0, ""};
    (void)rail().run([&]() -> Status {
      auto s = make_socket(SOCK_STREAM, "", 0);
      if (!s) return s.error();
      sockaddr_in api = sockaddr_v4("127.0.0.1", kApiPort);
      if (connect(s->fd, reinterpret_cast<sockaddr*>(&api), sizeof(api)) != 0)
        return dataplane::errno_error("connect api");
      const std::string request =
          "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
      if (send(s->fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
        return dataplane::errno_error("send api");
      std::string raw;
      char buf[4096];
      for (ssize_t n; (n = recv(s->fd, buf, sizeof(buf), 0)) > 0;) raw.append(buf, size_t(n));
      const size_t space = raw.find(' ');
      const size_t end = raw.find("\r\n\r\n");
      if (space == std::string::npos || end == std::string::npos) return ok();
      response = {std::atoi(raw.c_str() + space + 1), raw.substr(end + 4)};
      return ok();
    });
    return response;
  }

  // Backend name -> state ("up", "down", ...) from GET /v1/vips/dns.
  std::map<std::string, std::string> backend_states() {
    std::map<std::string, std::string> out;
    auto [status, body] = http_get("/v1/vips/dns");
    if (status != 200) return out;
    json vip = json::parse(body, nullptr, false);
    if (vip.is_discarded() || !vip.contains("backends")) return out;
    for (const json& b : vip["backends"]) out[b.value("name", "")] = b.value("state", "");
    return out;
  }

  bool all_up() {
    auto states = backend_states();
    for (int n = 1; n <= kBackends; ++n)
      if (states[backend_name(n)] != "up") return false;
    return true;
  }

  std::string describe_states() {
    std::string out;
    for (const auto& [name, state] : backend_states()) out += name + "=" + state + " ";
    return out;
  }

  TempDir dir_;
  std::vector<Netns> namespaces_;  // switch, client, rail, b1..b3
  std::vector<VethPair> veths_;
  std::optional<dataplane::BpfSkeleton<trivial_bpf_traits>> trivial_;
  std::optional<dataplane::XdpAttachment> peer_pass_;
  std::vector<DecapProgram> decaps_;
  std::vector<Fd> sinks_, listeners_;  // [n - 1] is backend n
  std::thread receiver_;
  std::atomic<bool> stop_receiver_{false};
  std::mutex mu_;
  std::map<std::pair<uint16_t, int>, int> received_;  // (source port, backend n) -> datagrams
  std::unique_ptr<RaildProcess> raild_;
  std::string config_path_;
};

TEST_F(RaildRestartTest, SteadyUdpStreamLosesNothingAcrossARaildRestart) {
  const std::string log1 = dir_.path() + "/raild1.log", log2 = dir_.path() + "/raild2.log";
  auto logs = [&] {
    return "\n--- " + log1 + ":\n" + read_file(log1) + "--- " + log2 + ":\n" + read_file(log2);
  };
  ASSERT_TRUE(start_raild(log1));
  auto ready =
      wait_until([&] { return !raild_->running() || http_get("/readyz").first == 200; }, 10);
  ASSERT_TRUE(ready && raild_->running()) << logs();
  ASSERT_TRUE(wait_until([&] { return all_up(); }, 5)) << describe_states() << logs();

  std::vector<Fd> clients(kFlows);
  ASSERT_TRUE(client().run([&]() -> Status {
    for (int f = 0; f < kFlows; ++f) {
      auto s = make_socket(SOCK_DGRAM, kClientIp, uint16_t(kFirstSourcePort + f));
      if (!s) return s.error();
      clients[size_t(f)] = std::move(*s);
    }
    return ok();
  }));

  // Sender: kRate datagrams/s round-robin over the flows on absolute deadlines, until stopped.
  std::atomic<bool> stop_sending{false};
  std::atomic<int> sent{0}, send_errors{0};
  std::thread sender([&] {
    const sockaddr_in to = sockaddr_v4(kVip, kUdpPort);
    timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (int n = 0; !stop_sending && n < kRate * 20; ++n) {
      next.tv_nsec += 1'000'000'000 / kRate;
      if (next.tv_nsec >= 1'000'000'000) {
        next.tv_nsec -= 1'000'000'000;
        ++next.tv_sec;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
      const std::string msg = std::to_string(n);
      if (sendto(clients[size_t(n % kFlows)].fd, msg.data(), msg.size(), 0,
                 reinterpret_cast<const sockaddr*>(&to), sizeof(to)) == ssize_t(msg.size()))
        ++sent;
      else
        ++send_errors;
    }
  });
  struct JoinOnExit {  // the sender never outlives the test body, even on an ASSERT
    std::atomic<bool>& stop;
    std::thread& t;
    ~JoinOnExit() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join_sender{stop_sending, sender};

  // ~1 s of traffic, then the restart: SIGTERM, exit, a new raild on the same config and pins.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int sent_before = sent.load();
  const auto t_term = Clock::now();
  ASSERT_TRUE(raild_->terminate(5)) << "raild did not exit within 5 s of SIGTERM" << logs();
  const auto t_exit = Clock::now();
  EXPECT_TRUE(WIFEXITED(raild_->exit_status()) && WEXITSTATUS(raild_->exit_status()) == 0)
      << "status " << raild_->exit_status() << logs();
  const int sent_at_exit = sent.load();
  // No raild at all for a while: only the pinned link forwards (nothing may be lost here).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(start_raild(log2));
  auto ready2 =
      wait_until([&] { return !raild_->running() || http_get("/readyz").first == 200; }, 10);
  ASSERT_TRUE(ready2 && raild_->running()) << logs();
  const auto t_ready = Clock::now();
  const int sent_in_gap = sent.load() - sent_at_exit;
  const std::string states_at_ready = describe_states();
  // ~1 s more of traffic through the new raild (its health checks run meanwhile).
  std::this_thread::sleep_for(std::chrono::seconds(1));
  stop_sending = true;
  sender.join();
  const std::string states_after = describe_states();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // in-flight datagrams land

  std::map<std::pair<uint16_t, int>, int> received;
  {
    std::lock_guard<std::mutex> lock(mu_);
    received = received_;
  }
  int got = 0;
  std::map<uint16_t, int> backends_of_flow;
  for (const auto& [key, n] : received) {
    got += n;
    ++backends_of_flow[key.first];
  }
  const double stop_s = std::chrono::duration<double>(t_exit - t_term).count();
  const double gap_s = std::chrono::duration<double>(t_ready - t_exit).count();
  std::printf(
      "raild restart: %d sent (%d before SIGTERM, %d send errors), %d received, %d lost; "
      "SIGTERM->exit %.3f s, restart gap (old exit -> new /readyz, incl. 0.3 s with no raild) "
      "%.3f s, %d datagrams sent in the gap; %zu flows\n",
      sent.load(), sent_before, send_errors.load(), got, sent.load() - got, stop_s, gap_s,
      sent_in_gap, backends_of_flow.size());
  std::printf("raild restart: backends at new /readyz: %s; 1 s later: %s\n",
              states_at_ready.c_str(), states_after.c_str());
  for (const auto& [key, n] : received)
    std::printf("raild restart:   flow %u -> b%d: %d datagrams\n", key.first, key.second, n);

  const std::string log_new = read_file(log2);
  EXPECT_NE(log_new.find("adopted=true"), std::string::npos) << logs();
  EXPECT_EQ(send_errors.load(), 0);
  EXPECT_EQ(got, sent.load()) << "datagrams lost across the raild restart" << logs();
  EXPECT_EQ(backends_of_flow.size(), size_t(kFlows));
  for (const auto& [port, n] : backends_of_flow) EXPECT_EQ(n, 1) << "flow " << port << " moved";
  EXPECT_TRUE(all_up()) << describe_states() << logs();
}

}  // namespace
}  // namespace rail
