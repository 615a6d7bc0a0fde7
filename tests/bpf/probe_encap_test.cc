// bpf/probe_encap.bpf.c through BPF_PROG_TEST_RUN with a socket mark in the context: a marked
// via-VIP probe leaves as the exact GRE frame the balancer would send to that backend; unmarked
// and foreign-marked frames are untouched; a marked probe without a target is dropped.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "core/packet/builder.h"
#include "dataplane/probe_encap.h"

namespace rail {
namespace {

using dataplane::ProbeEncapProgram;
using dataplane::ProbeEncapTarget;
using packet::PacketBuilder;
using Bytes = std::vector<uint8_t>;

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}
MacAddress mac(const char* text) {
  return *MacAddress::parse(text);
}

const IpAddress kNode = ip("198.18.0.1");
const IpAddress kBackend = ip("198.18.0.22");
const IpAddress kVip = ip("198.18.100.1");
const MacAddress kNodeMac = mac("02:00:00:00:0a:01");
const MacAddress kBackendMac = mac("02:00:00:00:0b:02");
const MacAddress kGatewayMac = mac("02:00:00:00:0f:01");  // where the VIP route pointed

struct TcRun {
  uint32_t retval = 0;
  Bytes output;
};

// One run of the tc program on `frame` with skb->mark = `mark`.
TcRun run(int prog_fd, const Bytes& frame, uint32_t mark) {
  Bytes out(frame.size() + 256);
  __sk_buff ctx{};
  ctx.mark = mark;
  bpf_test_run_opts opts{};
  opts.sz = sizeof(opts);
  opts.data_in = frame.data();
  opts.data_size_in = uint32_t(frame.size());
  opts.data_out = out.data();
  opts.data_size_out = uint32_t(out.size());
  opts.ctx_in = &ctx;
  opts.ctx_size_in = sizeof(ctx);
  opts.repeat = 1;
  const int err = bpf_prog_test_run_opts(prog_fd, &opts);
  EXPECT_EQ(err, 0) << "BPF_PROG_TEST_RUN: " << err;
  out.resize(opts.data_size_out);
  return {opts.retval, out};
}

// The health check's SYN as the node's stack sends it to the VIP (next hop: the gateway).
Bytes probe_syn() {
  return PacketBuilder()
      .eth(kNodeMac, kGatewayMac)
      .ipv4(kNode, kVip)
      .tos(0x10)
      .df()
      .tcp(41000, 8080)
      .syn()
      .build();
}

class ProbeEncapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto program = ProbeEncapProgram::load();
    ASSERT_TRUE(program) << program.error().describe();
    program_.emplace(std::move(*program));
    ASSERT_TRUE(program_->set_target(7, ProbeEncapTarget{kBackend, kNode, kBackendMac, kNodeMac}));
  }
  std::optional<ProbeEncapProgram> program_;
};

TEST_F(ProbeEncapTest, MarkedProbeBecomesTheBalancersGreFrame) {
  const TcRun r = run(program_->prog_fd(), probe_syn(), dataplane::probe_mark(7));
  EXPECT_EQ(r.retval, uint32_t(TC_ACT_OK));
  const Bytes expected = PacketBuilder()
                             .eth(kNodeMac, kBackendMac)
                             .ipv4(kNode, kBackend)
                             .tos(0x10)
                             .df()
                             .gre()
                             .ipv4(kNode, kVip)
                             .tos(0x10)
                             .df()
                             .tcp(41000, 8080)
                             .syn()
                             .build();
  EXPECT_EQ(r.output, expected);
  auto stats = program_->stats();
  ASSERT_TRUE(stats) << stats.error().describe();
  EXPECT_EQ(stats->packets[RAIL_PROBE_STAT_ENCAPSULATED], 1u);
}

TEST_F(ProbeEncapTest, OtherTrafficIsUntouchedAndAnUnknownProbeIsDropped) {
  const Bytes syn = probe_syn();
  for (uint32_t mark : {0u, 7u, 0x12340007u}) {  // none, the bare id, someone else's mark
    const TcRun r = run(program_->prog_fd(), syn, mark);
    EXPECT_EQ(r.retval, uint32_t(TC_ACT_OK)) << mark;
    EXPECT_EQ(r.output, syn) << mark;
  }
  // Marked for an id without a target (never set, or withdrawn): never sent plain.
  EXPECT_EQ(run(program_->prog_fd(), syn, dataplane::probe_mark(8)).retval, uint32_t(TC_ACT_SHOT));
  ASSERT_TRUE(program_->remove_target(7));
  EXPECT_EQ(run(program_->prog_fd(), syn, dataplane::probe_mark(7)).retval, uint32_t(TC_ACT_SHOT));
  auto stats = program_->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->packets[RAIL_PROBE_STAT_NO_TARGET], 2u);
  EXPECT_EQ(stats->packets[RAIL_PROBE_STAT_ENCAPSULATED], 0u);
  // IPv6 targets are refused up front (the program writes IPv4 outer headers only).
  EXPECT_FALSE(program_->set_target(
      9, ProbeEncapTarget{ip("2001:db8::22"), ip("2001:db8::1"), kBackendMac, kNodeMac}));
}

}  // namespace
}  // namespace rail
