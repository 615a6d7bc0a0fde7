// IcmpListener: raw ICMP/ICMPv6 sockets filtered to destination unreachable, parsed and turned
// into rate-limited reports about backends.
#include "daemon/health/icmp_listener.h"

#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace rail::health {
namespace {

constexpr size_t kMaxPerDrain = 256;
constexpr size_t kBufferSize = 4096;  // ICMP errors are <= 576 (v4) / 1280 (v6) bytes

Error socket_error(const std::string& what) {
  return make_error(errno == EPERM || errno == EACCES ? ErrorCode::kPermission : ErrorCode::kSystem,
                    "icmp listener: " + what + ": " + std::strerror(errno));
}

Result<UniqueFd> open_v4() {
  UniqueFd fd(::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP));
  if (!fd.valid()) return socket_error("socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)");
  // The kernel drops every other type before it is queued: pings to the node cost nothing here.
  icmp_filter filter{};
  filter.data = ~(1U << ICMP_DEST_UNREACH);
  if (::setsockopt(fd.get(), SOL_RAW, ICMP_FILTER, &filter, sizeof(filter)) != 0)
    return socket_error("ICMP_FILTER");
  return fd;
}

// An invalid fd (and no error) when the kernel has no IPv6.
Result<UniqueFd> open_v6() {
  UniqueFd fd(::socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (!fd.valid()) {
    if (errno == EAFNOSUPPORT) return UniqueFd();
    return socket_error("socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)");
  }
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &filter);
  if (::setsockopt(fd.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) != 0)
    return socket_error("ICMP6_FILTER");
  return fd;
}

}  // namespace

const char* to_string(IcmpIgnored reason) {
  switch (reason) {
    case IcmpIgnored::kMalformed:
      return "malformed";
    case IcmpIgnored::kOtherType:
      return "other_type";
    case IcmpIgnored::kNotBackend:
      return "not_backend";
    case IcmpIgnored::kRateLimited:
      return "rate_limited";
    case IcmpIgnored::kCount:
      break;
  }
  return "unknown";
}

Result<std::unique_ptr<IcmpListener>> IcmpListener::open(Options options, Report report) {
  auto v4 = open_v4();
  if (!v4) return v4.error();
  UniqueFd v6;
  if (options.v6) {
    auto opened = open_v6();
    if (!opened) return opened.error();
    v6 = std::move(*opened);
  }
  return std::unique_ptr<IcmpListener>(
      new IcmpListener(std::move(options), std::move(report), std::move(*v4), std::move(v6)));
}

IcmpListener::IcmpListener(Options options, Report report, UniqueFd v4, UniqueFd v6)
    : options_(std::move(options)),
      report_(std::move(report)),
      v4_(std::move(v4)),
      v6_(std::move(v6)) {}

std::vector<int> IcmpListener::fds() const {
  std::vector<int> out{v4_.get()};
  if (v6_.valid()) out.push_back(v6_.get());
  return out;
}

size_t IcmpListener::drain(int fd) {
  const bool v6 = v6_.valid() && fd == v6_.get();
  if (!v6 && fd != v4_.get()) return 0;
  uint8_t buffer[kBufferSize];
  size_t n = 0;
  for (; n < kMaxPerDrain; ++n) {
    sockaddr_in6 from{};
    socklen_t from_len = sizeof(from);
    const ssize_t got = ::recvfrom(fd, buffer, sizeof(buffer), MSG_DONTWAIT | MSG_TRUNC,
                                   reinterpret_cast<sockaddr*>(&from), &from_len);
    if (got < 0) break;  // EAGAIN: drained (other errors: the next poll tries again)
    (v6 ? received_v6_ : received_v4_).fetch_add(1, std::memory_order_relaxed);
    if (size_t(got) > sizeof(buffer)) {
      ignored_[size_t(IcmpIgnored::kMalformed)].fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const std::span<const uint8_t> bytes(buffer, size_t(got));
    if (v6) {
      std::array<uint8_t, 16> source;
      std::memcpy(source.data(), &from.sin6_addr, source.size());
      handle(parse_icmpv6_unreachable(IpAddress::v6(source), bytes));
    } else {
      handle(parse_icmpv4_unreachable(bytes));
    }
  }
  return n;
}

bool IcmpListener::rate_limited(const IpAddress& address,
                                std::chrono::steady_clock::time_point now) const {
  auto it = last_report_.find(address);
  return it != last_report_.end() && now - it->second < options_.min_gap;
}

void IcmpListener::handle(const Result<std::optional<IcmpUnreachable>>& message) {
  auto ignore = [this](IcmpIgnored reason) {
    ignored_[size_t(reason)].fetch_add(1, std::memory_order_relaxed);
  };
  if (!message) return ignore(IcmpIgnored::kMalformed);
  if (!message->has_value()) return ignore(IcmpIgnored::kOtherType);
  const IcmpUnreachable& m = **message;
  const auto now = options_.clock();
  // The backend itself first; then the destination a router could not reach.
  std::vector<IpAddress> candidates{m.from};
  if (m.quote.dst != m.from) candidates.push_back(m.quote.dst);
  for (const IpAddress& address : candidates) {
    if (rate_limited(address, now)) return ignore(IcmpIgnored::kRateLimited);
    const size_t checks = report_(address);
    if (checks == 0) continue;
    if (last_report_.size() >= 4096) {  // only backends get in; forget the stale ones
      std::erase_if(last_report_,
                    [&](const auto& e) { return now - e.second >= options_.min_gap; });
    }
    last_report_[address] = now;
    matched_.fetch_add(1, std::memory_order_relaxed);
    checks_triggered_.fetch_add(checks, std::memory_order_relaxed);
    return;
  }
  ignore(IcmpIgnored::kNotBackend);
}

IcmpListenerStats IcmpListener::stats() const {
  IcmpListenerStats s;
  s.received_v4 = received_v4_.load(std::memory_order_relaxed);
  s.received_v6 = received_v6_.load(std::memory_order_relaxed);
  s.matched = matched_.load(std::memory_order_relaxed);
  s.checks_triggered = checks_triggered_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < s.ignored.size(); ++i)
    s.ignored[i] = ignored_[i].load(std::memory_order_relaxed);
  return s;
}

}  // namespace rail::health
