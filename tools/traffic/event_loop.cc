// epoll and signalfd wrappers: errors as Status, EINTR handled here.
#include "tools/traffic/event_loop.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace rail::traffic {

Result<Epoll> Epoll::create() {
  UniqueFd fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!fd.valid()) return errno_error("epoll_create1");
  return Epoll(std::move(fd));
}

Status Epoll::add(int fd, uint32_t events, uint64_t key) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = key;
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &event) != 0) return errno_error("epoll_ctl add");
  return ok();
}

Status Epoll::modify(int fd, uint32_t events, uint64_t key) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = key;
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_MOD, fd, &event) != 0) return errno_error("epoll_ctl mod");
  return ok();
}

void Epoll::remove(int fd) {
  ::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

Result<int> Epoll::wait(epoll_event* events, int max_events, int timeout_ms) {
  int n = ::epoll_wait(fd_.get(), events, max_events, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return 0;
    return errno_error("epoll_wait");
  }
  return n;
}

Result<UniqueFd> make_stop_signal_fd() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return errno_error("sigprocmask");
  UniqueFd fd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd.valid()) return errno_error("signalfd");
  return fd;
}

int read_stop_signal(int signal_fd) {
  signalfd_siginfo info{};
  if (::read(signal_fd, &info, sizeof(info)) != ssize_t(sizeof(info))) return 0;
  return int(info.ssi_signo);
}

}  // namespace rail::traffic
