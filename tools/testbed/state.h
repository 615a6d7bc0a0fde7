// The testbed's crash record: /run/rail-testbed/NAME/state.json, written BEFORE each namespace
// or process is created, so `rail-testbed down NAME` (sweep()) can remove everything a killed
// run left behind. Everything a testbed creates is also named rtb-NAME-*, so a sweep finds
// namespaces even when the record is incomplete.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"

namespace rail::testbed {

// The default root of state dirs.
inline constexpr const char* kStateRoot = "/run/rail-testbed";

// "rtb-NAME-" : the prefix of every namespace of testbed NAME.
std::string namespace_prefix(const std::string& name);

// The kernel's start time of `pid` (clock ticks since boot; /proc/PID/stat field 22), or 0
// if there is no such process. With the pid it identifies a process across pid reuse.
unsigned long long process_start_time(pid_t pid);

// The record of one running testbed. Thread-safe; every change is written at once (atomic
// rename), so a crash leaves the last complete record.
class StateFile {
 public:
  // Creates DIR = root/NAME (mode 0755) and writes the initial record (owner = this process).
  static Result<StateFile> create(const std::string& root, const std::string& name);
  // Reads root/NAME/state.json of a running (or crashed) testbed.
  static Result<nlohmann::json> read(const std::string& root, const std::string& name);

  StateFile(StateFile&& other) noexcept;
  StateFile& operator=(StateFile&&) = delete;

  const std::string& dir() const { return dir_; }
  // Records a namespace / process / file before it is created; forget_* after it is gone.
  Status add_namespace(const std::string& ns);
  Status add_process(pid_t pid, const std::string& role, const std::string& what);
  Status forget_process(pid_t pid);
  // Free-form fields ("roles", "vip4", "active_nodes", ...) for the CLI's other commands.
  Status set(const std::string& key, nlohmann::json value);

 private:
  StateFile(std::string dir, nlohmann::json doc) : dir_(std::move(dir)), doc_(std::move(doc)) {}
  Status write_locked();

  std::string dir_;
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
  nlohmann::json doc_;
};

// True if the owner recorded in `state` (pid + start time) is still running.
bool owner_alive(const nlohmann::json& state);

// Removes everything of testbed NAME: kills recorded processes (if they are still the recorded
// ones) and every process inside rtb-NAME-* namespaces, deletes those namespaces and the state
// dir. Idempotent. If a live owner is recorded, it is asked to stop first (SIGTERM, up to
// `owner_grace`), then killed. `removed` (if given) receives one line per thing removed.
Status sweep(const std::string& root, const std::string& name, std::string* removed = nullptr,
             int owner_grace_ms = 10000);

// Names of testbeds with a state dir under root.
std::vector<std::string> list_testbeds(const std::string& root);

}  // namespace rail::testbed
