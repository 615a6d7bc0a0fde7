// Child processes of the testbed: one-shot commands with captured output, and RAII background
// processes that die with the testbed (PR_SET_PDEATHSIG on a long-lived spawner thread).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"

namespace rail::testbed {

// Runs argv[0] (PATH searched) with stdout+stderr captured and stdin from /dev/null; waits.
// Error (kSystem) on a non-zero exit or a signal, with the command and its output.
Result<std::string> run(const std::vector<std::string>& argv);
// Same, but a non-zero exit is not an error: the exit status (or 128+signal) and output.
struct RunResult {
  int status = 0;
  std::string output;
};
Result<RunResult> run_status(const std::vector<std::string>& argv);

// The absolute path of `ip` (iproute2).
const std::string& ip_binary();

// A background child: killed (SIGKILL) and reaped by the destructor if still running.
// Move-only. pid() <= 0 means "no process".
class Process {
 public:
  Process() = default;
  explicit Process(pid_t pid, std::string what) : pid_(pid), what_(std::move(what)) {}
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  const std::string& what() const { return what_; }
  // True while it runs (reaps it, keeping the status, once it has exited).
  bool running();
  // Waits up to `limit` for it to exit: its status (exit code, or 128 + signal); kSystem
  // "still running" on timeout (it keeps running).
  Result<int> wait(std::chrono::milliseconds limit);
  // SIGTERM, up to `grace` for it to exit, then SIGKILL. Its status.
  int terminate(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  // SIGKILL and reap now (a crash).
  void kill_now();
  void signal(int sig) const;

 private:
  pid_t pid_ = -1;
  std::string what_;
  int status_ = -1;
};

// Forks every background child from ONE thread that lives as long as the Spawner: the
// kernel's parent-death signal fires when the *thread* that forked dies, so children forked by
// a short-lived thread would die with it, and children of a crashed testbed must die with it.
class Spawner {
 public:
  Spawner();
  ~Spawner();
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  // Starts argv (argv[0] absolute or PATH-searched) with stdout+stderr appended to log_path,
  // stdin /dev/null, SIGKILL on the testbed's death. Error if fork/exec or the log fails
  // (an exec failure shows as exit status 127 of the process).
  Result<Process> spawn(const std::vector<std::string>& argv, const std::string& log_path);
  // The same with stdout and stderr appended to two files (for callers that parse one of them).
  Result<Process> spawn(const std::vector<std::string>& argv, const std::string& stdout_path,
                        const std::string& stderr_path);

 private:
  void loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

// Wait-loop helper: polls `done` every `step` until true (true) or `limit` passes (false).
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit,
                std::chrono::milliseconds step = std::chrono::milliseconds(20));

}  // namespace rail::testbed
