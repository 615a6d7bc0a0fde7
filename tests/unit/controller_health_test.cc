// Controller and health: a verdict removes or restores a backend in the Maglev table; real
// checks against a loopback listener; passive ICMP triggers; last states persist.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <thread>

#include "controller_test_world.h"
#include "core/unique_fd.h"

namespace rail::daemon::testing {
namespace {

using Set = std::set<std::string>;

TEST(ControllerHealth, VerdictsRemoveAndRestoreBackends) {
  ControllerWorld w("type: tcp, port: 80");
  EXPECT_EQ(w.spread(), (Set{"-"}));  // never checked: unknown = down
  for (const char* a : {"198.18.1.1", "198.18.1.2", "198.18.1.3"})
    w.c().set_health({"web", ip(a)}, BackendState::kUp, "test");
  EXPECT_EQ(w.spread(), (Set{"198.18.1.1", "198.18.1.2", "198.18.1.3"}));
  w.c().set_health({"web", ip("198.18.1.2")}, BackendState::kDown, "connect refused");
  EXPECT_EQ(w.spread(), (Set{"198.18.1.1", "198.18.1.3"}));
  EXPECT_EQ(w.c().vip("www")->up, 2u);
  w.c().set_health({"web", ip("198.18.1.2")}, BackendState::kUp, "ok");
  EXPECT_EQ(w.spread(), (Set{"198.18.1.1", "198.18.1.2", "198.18.1.3"}));
  // Forced up beats a failing check.
  ASSERT_TRUE(w.c().force("web", ip("198.18.1.1"), BackendState::kUp));
  w.c().set_health({"web", ip("198.18.1.1")}, BackendState::kDown, "timeout");
  EXPECT_EQ(w.spread().count("198.18.1.1"), 1u);
  ASSERT_TRUE(w.c().flush_state());  // the state files are written behind the change
  auto rt = load_runtime_state(runtime_state_path((w.dir() / "running.yaml").string()));
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->health.at({"web", ip("198.18.1.1")}), BackendState::kDown);
  EXPECT_EQ(rt->forced.at({"web", ip("198.18.1.1")}), BackendState::kUp);
  bool logged = false;
  for (const std::string& l : w.lines())
    logged |= l.find("event=health_change pool=web backend=198.18.1.2 state=down") != l.npos;
  EXPECT_TRUE(logged);
}

// A TCP listener on 127.0.0.1:<port>, closed by the destructor.
struct Listener {
  UniqueFd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  uint16_t port = 0;
  Listener() {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 &&
        ::listen(fd.get(), 64) == 0 &&
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sin), &len) == 0)
      port = ntohs(sin.sin_port);
  }
};

template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 300; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(ControllerHealth, RealChecksFollowTheListener) {
  auto listener = std::make_unique<Listener>();
  ASSERT_NE(listener->port, 0);
  const std::string check = "type: tcp, port: " + std::to_string(listener->port) +
                            ", interval: 100ms, timeout: 100ms, rise: 1, fall: 1";
  ControllerWorld w(check, true, "[127.0.0.1, 127.0.0.2]");  // nothing listens on .2
  ASSERT_TRUE(eventually([&] { return w.spread() == Set{"127.0.0.1"}; }));
  auto v = w.c().vip("www");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->backends[0].state, BackendState::kUp);
  EXPECT_EQ(v->backends[1].state, BackendState::kDown);
  EXPECT_GT(v->backends[0].checks, 0u);
  listener.reset();  // the server stops: removed
  ASSERT_TRUE(eventually([&] { return w.spread() == Set{"-"}; }));
  EXPECT_EQ(w.c().report_unreachable(ip("127.0.0.2")), 1u);  // passive trigger
  EXPECT_EQ(w.c().report_unreachable(ip("198.18.9.9")), 0u);
}

}  // namespace
}  // namespace rail::daemon::testing
