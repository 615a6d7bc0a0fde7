// StatePersister: writes raild's state file and runtime file on its own thread, after the change
// they describe is applied, so an API answer does not wait for fsync.
//
// Policy (docs/raild.md "STATE", docs/errors.md): the controller submits a snapshot of what it
// has just applied; the thread writes the newest snapshot (older ones not yet written are
// skipped: the files only ever jump to a newer applied state), each file atomically (temp,
// fsync, rename, fsync dir: config_store.h). So the files always hold a complete state that was
// applied, at most the writes in flight behind the data plane. A failed write is reported
// through `on_error`, kept, and retried every `retry` until it succeeds or a newer snapshot
// replaces it. Bursts are coalesced: after a write the next one starts `interval` later at the
// earliest (submissions meanwhile only replace the pending snapshot), so the files lag the
// applied state by at most `interval` plus one write while changes keep coming. flush() and
// the destructor do not wait for the interval: flush() waits for everything submitted so far;
// the destructor flushes (one attempt for anything pending) before it stops the thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/result.h"
#include "daemon/config/daemon_config.h"
#include "daemon/controller/runtime_state.h"

namespace rail::daemon {

class StatePersister {
 public:
  // `on_error(file, error)` runs on the persister thread, once per failed write.
  using ErrorCallback = std::function<void(const std::string& file, const Error& error)>;

  StatePersister(ErrorCallback on_error, std::chrono::milliseconds retry,
                 std::chrono::milliseconds interval = std::chrono::milliseconds(0));
  ~StatePersister();
  StatePersister(const StatePersister&) = delete;
  StatePersister& operator=(const StatePersister&) = delete;

  // Queues the applied state: `config` (nullptr: unchanged since the last submission) goes to
  // `state_file`, `runtime` to runtime_state_path(state_file). Returns at once.
  void submit(const std::string& state_file, const DaemonConfig* config,
              const RuntimeState& runtime);
  // Blocks until everything submitted before the call was written or failed once; returns the
  // error of the last attempt, if it failed.
  Status flush();
  // Writes attempted so far (each writes the newest snapshot pending then).
  uint64_t writes();

 private:
  struct Pending {
    std::string state_file;
    std::optional<DaemonConfig> config;
    std::optional<RuntimeState> runtime;
    bool empty() const { return !config && !runtime; }
  };
  void run();
  // Writes `work`; what failed stays in `work` (for a retry). Called without mu_.
  Status write(Pending& work);

  ErrorCallback on_error_;
  std::chrono::milliseconds retry_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_write_{};  // end of the last attempt
  int flushing_ = 0;                                    // flush() calls waiting
  uint64_t writes_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  Pending pending_;
  uint64_t submitted_ = 0;  // submissions so far
  uint64_t attempted_ = 0;  // submissions whose write was attempted (flush() waits on this)
  bool failed_ = false;     // pending_ holds a write that failed: retry after retry_
  bool stop_ = false;
  Status last_ = ok();
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace rail::daemon
