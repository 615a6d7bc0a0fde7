// Netns / VethPair: thin RAII over iproute2 commands, plus setns(2) on a helper thread.
#include "netns.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <utility>

#include "dataplane/netns_exec.h"

namespace rail::e2e {

namespace {

constexpr const char* kPrefix = "rail-e2e-";

// Deletes namespaces "rail-e2e-<pid>-..." of processes that no longer exist.
void delete_stale_namespaces() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    std::string name = entry.path().filename();
    if (name.rfind(kPrefix, 0) != 0) continue;
    long pid = std::strtol(name.c_str() + std::char_traits<char>::length(kPrefix), nullptr, 10);
    if (pid <= 0 || pid == getpid() || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) {
      continue;
    }
    (void)run_command("ip netns del " + name);
  }
}

}  // namespace

Result<std::string> run_command(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return make_error(ErrorCode::kSystem, "popen failed for: " + command);
  std::string output;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error(ErrorCode::kSystem, "`" + command + "` failed: " + output);
  }
  return output;
}

Result<Netns> Netns::create(const std::string& role) {
  static std::atomic<int> counter{0};
  static std::once_flag swept;
  std::call_once(swept, delete_stale_namespaces);
  std::string name = std::string(kPrefix) + std::to_string(getpid()) + "-" +
                     std::to_string(counter++) + "-" + role;
  auto added = run_command("ip netns add " + name);
  if (!added) return added.error();
  Netns ns(name);  // from here on the destructor deletes it
  auto lo = ns.exec("ip link set lo up");
  if (!lo) return lo.error();
  return ns;
}

Netns::Netns(Netns&& other) noexcept : name_(std::exchange(other.name_, std::string())) {}

Netns::~Netns() {
  if (!name_.empty()) (void)run_command("ip netns del " + name_);
}

Result<std::string> Netns::exec(const std::string& command) const {
  return run_command("ip netns exec " + name_ + " " + command);
}

Status Netns::run(const std::function<Status()>& fn) const {
  auto fd = dataplane::NetnsFd::open("/run/netns/" + name_);
  if (!fd) return fd.error();
  return dataplane::run_in_netns(*fd, fn);
}

Result<VethPair> VethPair::create(const Netns& a, const std::string& a_ifname, const Netns& b,
                                  const std::string& b_ifname) {
  // Created inside `a` directly, so no name is ever taken in the caller's namespace.
  auto added = run_command("ip -n " + a.name() + " link add " + a_ifname + " type veth peer name " +
                           b_ifname + " netns " + b.name());
  if (!added) return added.error();
  VethPair pair(a.name(), a_ifname);
  for (const auto& [ns, ifname] : {std::pair{&a, a_ifname}, std::pair{&b, b_ifname}}) {
    auto up = run_command("ip -n " + ns->name() + " link set " + ifname + " up");
    if (!up) return up.error();
    auto off = ns->exec("ethtool -K " + ifname + " tx off rx off gso off tso off gro off");
    if (!off) return off.error();
  }
  return pair;
}

VethPair::VethPair(VethPair&& other) noexcept
    : ns_(std::exchange(other.ns_, std::string())), ifname_(std::move(other.ifname_)) {}

VethPair::~VethPair() {
  if (ns_.empty()) return;
  // Silently nothing to do if the namespace (and with it the pair) is already gone.
  (void)run_command("ip -n " + ns_ + " link del " + ifname_);
}

}  // namespace rail::e2e
