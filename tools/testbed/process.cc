// fork/exec helpers: captured one-shot commands, RAII background processes, the spawner thread.
#include "tools/testbed/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>

#include "core/unique_fd.h"

namespace rail::testbed {
namespace {

Error errno_error(const std::string& what) {
  return make_error(ErrorCode::kSystem, what + ": " + std::strerror(errno));
}

int decode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

// argv as char* for exec (the strings must outlive the call).
std::vector<char*> c_argv(std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (auto& a : argv) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

const std::string& ip_binary() {
  static const std::string path = [] {
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
      if (access(p, X_OK) == 0) return std::string(p);
    return std::string("ip");
  }();
  return path;
}

Result<RunResult> run_status(const std::vector<std::string>& argv_in) {
  std::vector<std::string> argv = argv_in;
  std::vector<char*> args = c_argv(argv);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return errno_error("pipe");
  const pid_t pid = fork();
  if (pid == 0) {  // async-signal-safe calls only
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  if (pid < 0) {
    close(pipefd[0]);
    return errno_error("fork");
  }
  RunResult result;
  char buf[4096];
  for (;;) {
    ssize_t n = read(pipefd[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, size_t(n));
  }
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return errno_error("waitpid " + join(argv_in));
  }
  result.status = decode(status);
  return result;
}

Result<std::string> run(const std::vector<std::string>& argv) {
  auto r = run_status(argv);
  if (!r) return r.error();
  if (r->status != 0)
    return make_error(ErrorCode::kSystem, "`" + join(argv) + "` failed (status " +
                                              std::to_string(r->status) + "): " + r->output);
  return std::move(r->output);
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), what_(std::move(other.what_)), status_(other.status_) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    kill_now();
    pid_ = std::exchange(other.pid_, -1);
    what_ = std::move(other.what_);
    status_ = other.status_;
  }
  return *this;
}

Process::~Process() {
  kill_now();
}

bool Process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    status_ = r == pid_ ? decode(status) : -1;
    pid_ = -1;
    return false;
  }
  return true;
}

Result<int> Process::wait(std::chrono::milliseconds limit) {
  if (!wait_until([&] { return !running(); }, limit, std::chrono::milliseconds(10)))
    return make_error(ErrorCode::kSystem, what_ + " is still running");
  return status_;
}

void Process::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

int Process::terminate(std::chrono::milliseconds grace) {
  if (!running()) return status_;
  signal(SIGTERM);
  if (!wait(grace)) kill_now();
  return status_;
}

void Process::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = decode(status);
  pid_ = -1;
}

Spawner::Spawner() : thread_([this] { loop(); }) {}

Spawner::~Spawner() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Spawner::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stop_ and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

Result<Process> Spawner::spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  return spawn(argv, log_path, log_path);
}

Result<Process> Spawner::spawn(const std::vector<std::string>& argv_in,
                               const std::string& stdout_path, const std::string& stderr_path) {
  std::promise<Result<Process>> done;
  auto future = done.get_future();
  {
    std::lock_guard lock(mu_);
    jobs_.push_back([&] {
      std::vector<std::string> argv = argv_in;
      std::vector<char*> args = c_argv(argv);
      const UniqueFd out_file(
          open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
      if (!out_file.valid()) {
        done.set_value(errno_error("open " + stdout_path));
        return;
      }
      UniqueFd err_file;
      if (stderr_path != stdout_path) {
        err_file.reset(open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
        if (!err_file.valid()) {
          done.set_value(errno_error("open " + stderr_path));
          return;
        }
      }
      const int out = out_file.get();
      const int err = err_file.valid() ? err_file.get() : out;
      const pid_t parent = getpid();
      const pid_t pid = fork();
      if (pid == 0) {  // async-signal-safe calls only
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);  // the testbed died before prctl
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(out, 1);
        dup2(err, 2);
        // Default signal dispositions and an empty mask, whatever the testbed blocks.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        execvp(args[0], args.data());
        _exit(127);
      }
      if (pid < 0) {
        done.set_value(errno_error("fork"));
        return;
      }
      done.set_value(Process(pid, join(argv_in)));
    });
  }
  cv_.notify_all();
  return future.get();
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit,
                std::chrono::milliseconds step) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

}  // namespace rail::testbed
