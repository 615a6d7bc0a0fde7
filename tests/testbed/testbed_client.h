// Client-side helpers of the testbed tests: real TCP/UDP exchanges with the VIP from chosen
// source addresses, run on a thread inside a testbed namespace, and a packet counter.
#pragma once

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>

#include "core/unique_fd.h"
#include "dataplane/netns_exec.h"
#include "tools/testbed/testbed.h"

namespace rail::testbed::test {

inline socklen_t to_sockaddr(const IpAddress& a, uint16_t port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof(out));
  if (a.is_v4()) {
    auto* s = reinterpret_cast<sockaddr_in*>(&out);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    std::memcpy(&s->sin_addr, a.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* s = reinterpret_cast<sockaddr_in6*>(&out);
  s->sin6_family = AF_INET6;
  s->sin6_port = htons(port);
  std::memcpy(&s->sin6_addr, a.data(), 16);
  return sizeof(sockaddr_in6);
}

// One exchange from `source` (ephemeral port: a new flow) to dst:port on the calling thread:
// TCP sends "LINE\n" and reads the answer line; UDP sends "LINE" and reads one datagram.
// The answer ("b3 LINE"), or "" when nothing came within timeout_ms.
inline std::string ask(bool udp, const IpAddress& source, const IpAddress& dst, uint16_t port,
                       const std::string& line, int timeout_ms = 1000) {
  UniqueFd s(socket(source.is_v4() ? AF_INET : AF_INET6,
                    (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
  if (!s.valid()) return "";
  timeval t{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &t, sizeof(t));
  setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t));
  sockaddr_storage from, to;
  socklen_t from_len = to_sockaddr(source, 0, from), to_len = to_sockaddr(dst, port, to);
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&from), from_len) != 0) return "";
  if (connect(s.get(), reinterpret_cast<sockaddr*>(&to), to_len) != 0) return "";
  const std::string request = udp ? line : line + "\n";
  if (send(s.get(), request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
    return "";
  std::string answer;
  char buf[512];
  for (;;) {
    ssize_t n = recv(s.get(), buf, sizeof(buf), 0);
    if (n <= 0) break;
    answer.append(buf, size_t(n));
    if (udp || answer.find('\n') != std::string::npos) break;
  }
  while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r')) answer.pop_back();
  return answer;
}

// `count` exchanges with the VIP from client 1's sources in turn: answers per backend name
// ("b1" ...), "fail" for no answer, "wrong" for an answer that does not echo the line.
inline std::map<std::string, int> spread(const Testbed& tb, Family family, bool udp, int count,
                                         int timeout_ms = 1000) {
  std::map<std::string, int> out;
  auto ns = dataplane::NetnsFd::open("/run/netns/" + tb.ns("client1"));
  if (!ns) return {{"error: " + ns.error().message, 1}};
  Status st = dataplane::run_in_netns(*ns, [&]() -> Status {
    int failures = 0;
    for (int n = 0; n < count && failures < 5; ++n) {
      const IpAddress src =
          client_source(tb.topology(), 1, n % tb.topology().client_sources, family);
      const std::string line = "hello-" + std::to_string(n);
      const std::string answer = ask(udp, src, tb.vip(family), tb.port(), line, timeout_ms);
      const size_t space = answer.find(' ');
      if (answer.empty()) {
        ++out["fail"];
        ++failures;  // a black hole costs timeout_ms per try: give up early
      } else if (space == std::string::npos || answer.substr(space + 1) != line) {
        ++out["wrong"];
      } else {
        ++out[answer.substr(0, space)];
      }
    }
    return ok();
  });
  if (!st) out["error: " + st.error().message] = 1;
  return out;
}

inline std::string describe(const std::map<std::string, int>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += k + "=" + std::to_string(v) + " ";
  return out;
}

// Counts frames received (not sent) on eth0 of a role whose IP source is `source`. The socket
// sees what the stack sees: frames an XDP program consumed (XDP_TX) never show up here.
class SourceCounter {
 public:
  Status open(const Testbed& tb, const std::string& role, const IpAddress& source) {
    source_ = source;
    auto ns = dataplane::NetnsFd::open("/run/netns/" + tb.ns(role));
    if (!ns) return ns.error();
    return dataplane::run_in_netns(*ns, [&]() -> Status {
      fd_ = UniqueFd(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)));
      if (!fd_.valid()) return make_error(ErrorCode::kSystem, "packet socket");
      // Room for every frame of a test (read only at the end): 64 MiB (root may force it).
      int bytes = 64 << 20;
      setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes));
      sockaddr_ll a{};
      a.sll_family = AF_PACKET;
      a.sll_protocol = htons(ETH_P_ALL);
      a.sll_ifindex = int(if_nametoindex("eth0"));
      if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
        return make_error(ErrorCode::kSystem, "bind packet socket");
      return ok();
    });
  }
  // Reads everything queued so far; the running count.
  int count() {
    unsigned char frame[2048];
    for (;;) {
      sockaddr_ll from{};
      socklen_t len = sizeof(from);
      ssize_t n =
          recvfrom(fd_.get(), frame, sizeof(frame), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) return count_;
      if (from.sll_pkttype == PACKET_OUTGOING || n < 14) continue;
      const uint16_t type = uint16_t(frame[12] << 8 | frame[13]);
      if (type == 0x0800 && source_.is_v4() && n >= 34 &&
          std::memcmp(frame + 14 + 12, source_.data(), 4) == 0)
        ++count_;
      if (type == 0x86dd && source_.is_v6() && n >= 54 &&
          std::memcmp(frame + 14 + 8, source_.data(), 16) == 0)
        ++count_;
    }
  }

 private:
  UniqueFd fd_;
  IpAddress source_;
  int count_ = 0;
};

}  // namespace rail::testbed::test
