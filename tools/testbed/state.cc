// StateFile (atomic JSON record of what exists) and sweep() (remove all of a testbed).
#include "tools/testbed/state.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/testbed/process.h"

namespace rail::testbed {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string namespace_prefix(const std::string& name) {
  return "rtb-" + name + "-";
}

unsigned long long process_start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  // After "pid (comm) " come state (field 3) ... starttime (field 22): 20 fields in.
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::strtoull(field.c_str(), nullptr, 10);
  }
  return 0;
}

namespace {

bool same_process(const json& entry) {
  const pid_t pid = entry.value("pid", 0);
  const unsigned long long start = entry.value("start_time", 0ULL);
  return pid > 0 && start != 0 && process_start_time(pid) == start;
}

Status write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) return make_error(ErrorCode::kSystem, "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return make_error(ErrorCode::kSystem, "rename " + tmp + ": " + std::strerror(errno));
  return ok();
}

// The process still runs (same start time, not a zombie waiting for its parent to reap it).
bool still_running(pid_t pid, unsigned long long start) {
  if (process_start_time(pid) != start) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

void kill_and_wait(pid_t pid, unsigned long long start, int grace_ms) {
  if (pid <= 0 || pid == getpid() || !still_running(pid, start)) return;
  ::kill(pid, grace_ms > 0 ? SIGTERM : SIGKILL);
  if (wait_until([&] { return !still_running(pid, start); }, std::chrono::milliseconds(grace_ms)))
    return;
  ::kill(pid, SIGKILL);
  wait_until([&] { return !still_running(pid, start); }, std::chrono::milliseconds(2000));
}

}  // namespace

Result<StateFile> StateFile::create(const std::string& root, const std::string& name) {
  std::error_code ec;
  const std::string dir = root + "/" + name;
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::kSystem, "cannot create " + dir + ": " + ec.message());
  json doc = {{"name", name},
              {"owner", {{"pid", getpid()}, {"start_time", process_start_time(getpid())}}},
              {"namespaces", json::array()},
              {"processes", json::array()}};
  StateFile state(dir, std::move(doc));
  std::lock_guard lock(*state.mu_);
  RAIL_TRY(state.write_locked());
  return state;
}

Result<json> StateFile::read(const std::string& root, const std::string& name) {
  const std::string path = root + "/" + name + "/state.json";
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kNotFound, "no testbed " + name + " (" + path + ")");
  json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return make_error(ErrorCode::kMalformed, path + " is not a testbed record");
  return doc;
}

StateFile::StateFile(StateFile&& other) noexcept
    : dir_(std::move(other.dir_)), mu_(std::move(other.mu_)), doc_(std::move(other.doc_)) {}

Status StateFile::write_locked() {
  return write_atomically(dir_ + "/state.json", doc_.dump(2));
}

Status StateFile::add_namespace(const std::string& ns) {
  std::lock_guard lock(*mu_);
  doc_["namespaces"].push_back(ns);
  return write_locked();
}

Status StateFile::add_process(pid_t pid, const std::string& role, const std::string& what) {
  std::lock_guard lock(*mu_);
  doc_["processes"].push_back(
      {{"pid", pid}, {"start_time", process_start_time(pid)}, {"role", role}, {"what", what}});
  return write_locked();
}

Status StateFile::forget_process(pid_t pid) {
  std::lock_guard lock(*mu_);
  json& list = doc_["processes"];
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->value("pid", 0) == pid) {
      list.erase(it);
      break;
    }
  }
  return write_locked();
}

Status StateFile::set(const std::string& key, json value) {
  std::lock_guard lock(*mu_);
  doc_[key] = std::move(value);
  return write_locked();
}

bool owner_alive(const json& state) {
  return state.contains("owner") && same_process(state["owner"]);
}

Status sweep(const std::string& root, const std::string& name, std::string* removed,
             int owner_grace_ms) {
  auto note = [&](const std::string& line) {
    if (removed) *removed += line + "\n";
  };
  auto state = StateFile::read(root, name);
  if (state) {
    const json& owner = (*state)["owner"];
    if (owner_alive(*state) && owner.value("pid", 0) != getpid()) {
      note("stopped owner process " + std::to_string(owner.value("pid", 0)));
      kill_and_wait(owner.value("pid", 0), owner.value("start_time", 0ULL), owner_grace_ms);
    }
    for (const json& p : (*state)["processes"]) {
      if (!still_running(p.value("pid", 0), p.value("start_time", 0ULL))) continue;
      note("killed " + p.value("what", "?") + " (pid " + std::to_string(p.value("pid", 0)) + ")");
      kill_and_wait(p.value("pid", 0), p.value("start_time", 0ULL), 0);
    }
  }
  // Every namespace with the testbed's prefix, recorded or not: first whatever still runs in
  // it, then the namespace (its veths, bridge, routes and tc/XDP programs go with it).
  const std::string prefix = namespace_prefix(name);
  std::error_code ec;
  std::vector<std::string> namespaces;
  for (const auto& entry : fs::directory_iterator("/run/netns", ec)) {
    const std::string ns = entry.path().filename();
    if (ns.rfind(prefix, 0) == 0) namespaces.push_back(ns);
  }
  for (const std::string& ns : namespaces) {
    if (auto pids = run({ip_binary(), "netns", "pids", ns})) {
      std::istringstream in(*pids);
      for (long pid; in >> pid;) {
        if (pid_t(pid) == getpid()) continue;
        note("killed pid " + std::to_string(pid) + " in " + ns);
        kill_and_wait(pid_t(pid), process_start_time(pid_t(pid)), 0);
      }
    }
  }
  std::string failures;
  for (const std::string& ns : namespaces) {
    auto del = run({ip_binary(), "netns", "del", ns});
    if (del)
      note("deleted namespace " + ns);
    else
      failures += del.error().message;
  }
  const std::string dir = root + "/" + name;
  if (fs::exists(dir, ec)) {
    fs::remove_all(dir, ec);
    if (ec)
      failures += "cannot remove " + dir + ": " + ec.message() + "\n";
    else
      note("removed " + dir);
  }
  if (!failures.empty()) return make_error(ErrorCode::kSystem, failures);
  return ok();
}

std::vector<std::string> list_testbeds(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec))
    if (entry.is_directory(ec)) out.push_back(entry.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace rail::testbed
