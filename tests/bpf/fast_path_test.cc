// The balancer's established-flow fast path (bpf/lib/lb_fast.h) against the reference forwarder
// across config changes that move a flow's service, encapsulation, MTU or backends.
#include <bpf/bpf.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "balancer_pair.h"
#include "cpu_pin.h"
#include "golden/golden_world.h"

namespace rail::golden {
namespace {

// Established flows of one VIP: every packet of every flow must get the reference's verdict,
// bytes and counters after each config change.
class FastPathTest : public ::testing::Test {
 protected:
  void SetUp() override { pair_.SetUp(config_); }

  // Sends `frame_of(i)` for flows 0..kFlows-1, twice (the second round meets the flow-cache
  // slots the first one filled), and compares everything with the reference.
  template <typename FrameOf>
  void ExpectReference(const std::string& step, FrameOf frame_of) {
    const Counters xdp_before = pair_.XdpCounters(), ref_before = pair_.RefCounters();
    for (int round = 0; round < 2; ++round) {
      for (uint16_t i = 0; i < kFlows; ++i) {
        auto o = pair_.Run(frame_of(i));
        EXPECT_EQ(o.xdp, o.ref.action) << step << ", round " << round << ", flow " << i;
        // Output bytes exist only for TX; drop reasons are compared as counters below.
        if (o.ref.action == RAIL_VERDICT_TX) {
          EXPECT_EQ(o.xdp_out, o.ref_out) << step << ", round " << round << ", flow " << i;
        }
      }
    }
    const Counters xdp = delta(pair_.XdpCounters(), xdp_before);
    const Counters ref = delta(pair_.RefCounters(), ref_before);
    EXPECT_EQ(xdp, ref) << step << describe_counters(xdp, ref);
  }

  uint32_t ServiceGen() {
    const uint32_t zero = 0;
    uint32_t gen = 0;
    EXPECT_EQ(bpf_map_lookup_elem(pair_.plane().map_fd("rail_service_gen"), &zero, &gen), 0);
    return gen;
  }

  static Bytes Udp(uint16_t i) {
    return from_router(udp4(kClient4, uint16_t(20000 + i), kWeb4, 53).payload("q").build());
  }
  static Bytes Syn(uint16_t i) {
    return from_router(tcp4(kClient4, uint16_t(30000 + i), kWeb4, 80).syn().build());
  }
  static Bytes Ack(uint16_t i) {
    return from_router(tcp4(kClient4, uint16_t(30000 + i), kWeb4, 80).ack().build());
  }

  static constexpr uint16_t kFlows = 64;
  ScopedCpuPin pin_;  // one CPU: the second round of each step meets the first one's slots
  LbConfig config_ = sample_config();
  Pair pair_;
};

// udp/53 to kWeb4 is taken by the any-port UDP service; an exact-port service added later
// shadows it for established flows too, and its removal hands them back (§2.6, §3).
TEST_F(FastPathTest, AServiceAddedOrRemovedBeforeAnEstablishedFlowsServiceMovesIt) {
  ExpectReference("first datagrams (any-port service)", Udp);
  ExpectReference("established on the any-port service", Udp);

  const uint32_t gen = ServiceGen();
  pair_.Apply(config_);
  EXPECT_EQ(ServiceGen(), gen) << "an identical config must not restamp every flow";

  Service exact = service(config_, kWeb4, Protocol::kUdp, 0);
  exact.port = 53;
  exact.encap = Encap::kGre;
  exact.backends.resize(2);
  for (Backend& be : exact.backends) be.name = "exact-" + be.address.to_string();
  config_.services.push_back(exact);
  pair_.Apply(config_);
  EXPECT_NE(ServiceGen(), gen);
  ExpectReference("exact-port service added", Udp);
  ExpectReference("established on the exact-port service", Udp);

  config_.services.pop_back();
  pair_.Apply(config_);
  ExpectReference("exact-port service removed", Udp);
  ExpectReference("back on the any-port service", Udp);
}

// Changes of the service's encapsulation or of the node's MTU, a drained and a down backend,
// and the service vanishing: established TCP flows follow the reference at every step.
TEST_F(FastPathTest, EstablishedFlowsFollowEncapMtuBackendAndServiceChanges) {
  ExpectReference("SYNs", Syn);
  ExpectReference("established", Ack);

  // GUE needs the flow hash: the fast path finds the entry, leaves the packet and hands the
  // entry to the general path (no second lookup), which must still be the reference's hit.
  service(config_, kWeb4, Protocol::kTcp, 80).encap = Encap::kGue;
  pair_.Apply(config_);
  ExpectReference("encap GRE -> GUE", Ack);

  service(config_, kWeb4, Protocol::kTcp, 80).encap = Encap::kIpip;
  pair_.Apply(config_);
  ExpectReference("encap GUE -> IPIP", Ack);

  config_.node.mtu = 1400;  // the lowest IPv6 services allow; ACKs still fit
  pair_.Apply(config_);
  ExpectReference("smaller MTU", Ack);
  ExpectReference("too big", [](uint16_t i) {
    return from_router(tcp4(kClient4, uint16_t(30000 + i), kWeb4, 80)
                           .ack()
                           .payload(std::string(1380, 'x'))
                           .df()
                           .build());
  });

  Service& web = service(config_, kWeb4, Protocol::kTcp, 80);
  web.backends[0].weight = 0;  // drained: keeps its flows
  web.backends[1].state = BackendState::kDown;
  pair_.Apply(config_);
  ExpectReference("b1 drained, b2 down", Ack);

  web.backends[2].next_hop_mac = MacAddress{};
  pair_.Apply(config_);
  ExpectReference("b3 next hop unknown", Ack);

  std::erase_if(config_.services,
                [](const Service& s) { return s.vip == kWeb4 && s.protocol == Protocol::kTcp; });
  pair_.Apply(config_);
  ExpectReference("service removed", Ack);
}

}  // namespace
}  // namespace rail::golden
