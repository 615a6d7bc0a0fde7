// The flow hash golden vectors (tests/golden/flow_hash_vectors.h) computed by BPF code: the
// balancer's lb_hash() compiled for the BPF target, run in the kernel via bpf/hash_probe.bpf.c.
#include <linux/bpf.h>

#include <gtest/gtest.h>

#include <cstring>

#include "abi/rail_abi.h"
#include "core/net/address.h"
#include "dataplane/skeleton.h"
#include "golden/flow_hash_vectors.h"
#include "hash_probe.skel.h"
#include "test_run.h"

namespace rail {
namespace {

RAIL_BPF_SKELETON_TRAITS(hash_probe_bpf);

// Mirrors struct lb_hash_probe in bpf/hash_probe.bpf.c.
struct HashProbe {
  uint32_t src[4];
  uint32_t dst[4];
  uint16_t sport;  // network order
  uint16_t dport;
  uint8_t proto;
  uint8_t family;
  uint16_t pad;
  uint32_t fields;
  uint32_t seed;
  uint32_t hash;
};
static_assert(sizeof(HashProbe) == 52);

TEST(FlowHashBpf, GoldenVectorsMatchOnTheBpfSide) {
  auto skel = dataplane::BpfSkeleton<hash_probe_bpf_traits>::open();
  ASSERT_TRUE(skel) << skel.error().describe();
  ASSERT_TRUE(skel->load());
  const int fd = bpf_program__fd(skel->get()->progs.rail_hash_probe);
  for (const rail_flow_hash_vector& v : rail_flow_hash_vectors) {
    SCOPED_TRACE(std::string(v.src) + " -> " + v.dst);
    auto src = IpAddress::parse(v.src), dst = IpAddress::parse(v.dst);
    ASSERT_TRUE(src && dst);
    HashProbe in{};
    std::memcpy(in.src, src->data(), src->size());
    std::memcpy(in.dst, dst->data(), dst->size());
    in.sport = RAIL_HTONS(uint16_t(v.sport));
    in.dport = RAIL_HTONS(uint16_t(v.dport));
    in.proto = uint8_t(v.proto);
    in.family = v.family == 4 ? RAIL_AF_INET : RAIL_AF_INET6;
    in.fields = v.fields;
    in.seed = v.seed;
    std::vector<uint8_t> frame(14 + sizeof(in), 0);
    std::memcpy(frame.data() + 14, &in, sizeof(in));
    auto run = bpftest::test_run(fd, frame);
    ASSERT_TRUE(run) << run.error().describe();
    ASSERT_EQ(run->retval, uint32_t(XDP_TX));
    ASSERT_GE(run->output.size(), frame.size());
    HashProbe out;
    std::memcpy(&out, run->output.data() + 14, sizeof(out));
    EXPECT_EQ(out.hash, v.expected);
  }
}

}  // namespace
}  // namespace rail
