// StatePersister: the persister thread (newest snapshot wins, retries after a failed write).
#include "daemon/controller/state_persister.h"

#include <sys/resource.h>
#include <unistd.h>

#include <utility>

#include "daemon/config/config_store.h"

namespace rail::daemon {
namespace {

constexpr int kNice = 10;  // background work: ~1/10 of a CPU-bound nice-0 thread's share

}  // namespace

StatePersister::StatePersister(ErrorCallback on_error, std::chrono::milliseconds retry,
                               std::chrono::milliseconds interval)
    : on_error_(std::move(on_error)),
      retry_(retry),
      interval_(interval),
      thread_([this] { run(); }) {}

StatePersister::~StatePersister() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StatePersister::submit(const std::string& state_file, const DaemonConfig* config,
                            const RuntimeState& runtime) {
  {
    std::lock_guard lock(mu_);
    // A pending config not yet written stays pending even if this submission left the config
    // alone: the file must reach the newest config either way.
    if (config) pending_.config = *config;
    pending_.runtime = runtime;
    pending_.state_file = state_file;
    failed_ = false;  // a new snapshot is written now, not after the retry delay
    ++submitted_;
  }
  cv_.notify_all();
}

Status StatePersister::flush() {
  std::unique_lock lock(mu_);
  const uint64_t want = submitted_;
  ++flushing_;  // the thread writes now, not at the end of the interval
  cv_.notify_all();
  cv_.wait(lock, [&] { return attempted_ >= want; });
  --flushing_;
  return last_;
}

uint64_t StatePersister::writes() {
  std::lock_guard lock(mu_);
  return writes_;
}

Status StatePersister::write(Pending& work) {
  Status result = ok();
  if (work.config) {
    if (Status st = ConfigStore(work.state_file).save(*work.config); st) {
      work.config.reset();
    } else {
      on_error_(work.state_file, st.error());
      result = st;
    }
  }
  if (work.runtime) {
    const std::string path = runtime_state_path(work.state_file);
    if (Status st = save_runtime_state(path, *work.runtime); st) {
      work.runtime.reset();
    } else {
      on_error_(path, st.error());
      result = st;
    }
  }
  return result;
}

void StatePersister::run() {
  // Writing a 1000-backend config (to_yaml, then fsyncs) is background work; on a small node
  // it must not slow the next change's apply. A lower priority for this thread only (Linux: nice is
  // per thread); if refused, writes just compete at the normal priority.
  (void)::setpriority(PRIO_PROCESS, ::gettid(), kNice);
  std::unique_lock lock(mu_);
  for (;;) {
    auto ready = [&] { return stop_ || (!pending_.empty() && !failed_); };
    if (failed_)
      cv_.wait_for(lock, retry_, ready);  // a retry is due after retry_ at the latest
    else
      cv_.wait(lock, ready);
    if (pending_.empty()) {
      if (stop_) return;
      continue;
    }
    // Coalesce a burst: what arrives until the interval ends joins this write.
    cv_.wait_until(lock, last_write_ + interval_, [&] { return stop_ || flushing_ > 0; });
    Pending work = std::exchange(pending_, Pending{});
    const uint64_t covered = submitted_;
    lock.unlock();
    Status st = write(work);
    lock.lock();
    last_write_ = std::chrono::steady_clock::now();
    ++writes_;
    if (!st && pending_.empty()) {
      pending_ = std::move(work);  // nothing newer arrived: retry what failed
      failed_ = true;
    } else if (!st) {
      // Something newer is pending; it carries the runtime state, but the config only if it
      // changed again: keep the one that failed.
      if (!pending_.config && work.config) pending_.config = std::move(work.config);
    }
    attempted_ = covered;
    last_ = st;
    cv_.notify_all();
    if (stop_ && (failed_ || pending_.empty())) return;  // at stop: one attempt each
  }
}

}  // namespace rail::daemon
