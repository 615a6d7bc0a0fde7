// Graceful restart: a second XdpDataPlane on the same pin_dir adopts the pinned link, ids and
// connection table, so established flows keep their backend whatever the new config's order.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <thread>

#include "balancer_pair.h"
#include "golden/golden_world.h"
#include "pin_dir.h"

namespace rail::golden {
namespace {

constexpr int kFlows = 64;

// Removes the test's pin directory whatever happens (pins are files in bpffs).

// The outer destination of a TX frame: the backend the balancer chose (IPv4 GRE outer header).
std::string backend_of(XdpDataPlane& plane, const Bytes& frame) {
  auto run = bpftest::test_run(plane.prog_fd(), frame);
  if (!run || verdict_of(run->retval) != RAIL_VERDICT_TX || run->output.size() < 34) return "?";
  return std::string(reinterpret_cast<const char*>(run->output.data() + 30), 4);
}

Bytes syn(uint16_t port) {
  return from_router(tcp4(kClient4, port, kWeb4, 80).syn().build());
}
Bytes ack(uint16_t port) {
  return from_router(tcp4(kClient4, port, kWeb4, 80).ack().build());
}

uint32_t attached_prog_id(int ifindex) {
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  if (bpf_xdp_query(ifindex, 0, &q) != 0) return 0;
  return q.attach_mode == XDP_ATTACHED_SKB ? q.skb_prog_id : q.prog_id;
}

uint32_t prog_id(int fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

// The config after the "upgrade": services and backends listed in reverse, plus a fifth backend
// for web4 tcp/80 (which moves some Maglev picks), so fresh ids would differ from the old ones.
LbConfig reordered() {
  LbConfig config = sample_config();
  std::reverse(config.services.begin(), config.services.end());
  for (Service& s : config.services) std::reverse(s.backends.begin(), s.backends.end());
  Service& web = service(config, kWeb4, Protocol::kTcp, 80);
  Backend extra = web.backends.front();
  extra.address = b(5);
  extra.name.clear();
  extra.next_hop_mac = mac_of(b(5));
  web.backends.push_back(extra);
  return config;
}

void RestartBody(const std::string& dir) {
  // A private namespace for this thread only: `lo` there is the interface we attach to.
  ASSERT_EQ(unshare(CLONE_NEWNET), 0);
  const int lo = int(if_nametoindex("lo"));
  ASSERT_GT(lo, 0);
  dataplane::XdpOptions options;
  options.conn_capacity = 1 << 12;
  options.pin_dir = dir;
  std::map<uint16_t, std::string> first_pick;
  {
    auto first = XdpDataPlane::load(options);
    ASSERT_TRUE(first) << first.error().describe();
    ASSERT_TRUE((*first)->apply(sample_config()));
    ASSERT_TRUE((*first)->attach("lo", dataplane::XdpMode::kGeneric));
    EXPECT_FALSE((*first)->attachments().front().adopted());
    for (uint16_t p = 40000; p < 40000 + kFlows; ++p) first_pick[p] = backend_of(**first, syn(p));
  }  // "raild exits": the object goes, the pinned link and maps stay
  struct stat st {};
  EXPECT_EQ(stat((dir + "/link_lo").c_str(), &st), 0) << "the link pin is gone";
  const uint32_t old_prog = attached_prog_id(lo);
  EXPECT_NE(old_prog, 0u) << "nothing attached after the first object ended";

  // The new config alone (no connection state) moves some flows: the test means something.
  {
    auto fresh = XdpDataPlane::load({});
    ASSERT_TRUE(fresh) << fresh.error().describe();
    ASSERT_TRUE((*fresh)->apply(reordered()));
    int moved = 0;
    for (const auto& [p, be] : first_pick) moved += backend_of(**fresh, syn(p)) != be;
    EXPECT_GT(moved, 0);
    std::cout << "restart: " << moved << "/" << kFlows << " flows would move without state\n";
  }

  auto second = XdpDataPlane::load(options);
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_GT((*second)->adopted_ids(), 0u);
  ASSERT_TRUE((*second)->apply(reordered()));
  for (const auto& [p, be] : first_pick)
    EXPECT_EQ(backend_of(**second, ack(p)), be) << "flow from port " << p << " moved";
  ASSERT_TRUE((*second)->attach("lo", dataplane::XdpMode::kNative));  // mode of the link kept
  ASSERT_EQ((*second)->attachments().size(), 1u);
  EXPECT_TRUE((*second)->attachments().front().adopted());
  EXPECT_EQ((*second)->attachments().front().mode(), dataplane::XdpMode::kGeneric);
  EXPECT_EQ(attached_prog_id(lo), prog_id((*second)->prog_fd())) << "program not replaced";

  (*second)->detach_all();  // the operator's "stop forwarding"
  EXPECT_NE(stat((dir + "/link_lo").c_str(), &st), 0);
  EXPECT_EQ(attached_prog_id(lo), 0u);
}

TEST(XdpRestartTest, NewLoaderAdoptsLinkIdsAndFlows) {
  PinDir dir("restart-test");
  std::thread t(RestartBody, dir.path());  // gtest assertions are thread-safe on Linux
  t.join();
}

}  // namespace
}  // namespace rail::golden
