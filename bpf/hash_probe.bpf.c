// SPDX-License-Identifier: GPL-2.0
/*
 * Test hook for the flow hash as the BPF side computes it: BPF_PROG_TEST_RUN hands in one
 * struct lb_hash_probe after a 14-byte dummy Ethernet header, the program fills in `hash` with
 * the balancer's own lb_hash() and returns XDP_TX. tests/bpf/flow_hash_bpf_test.cc runs the
 * golden vectors (tests/golden/flow_hash_vectors.h) through it. Never attached anywhere.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "rail_abi.h"
#include "lib/lb_flow_hash.h"

/* Layout mirrored (and size-asserted) by the test. */
struct lb_hash_probe {
	__u32 src[4]; /* network order */
	__u32 dst[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family; /* RAIL_AF_INET / RAIL_AF_INET6 */
	__u16 pad;
	__u32 fields;
	__u32 seed;
	__u32 hash; /* out */
};

SEC("xdp")
int rail_hash_probe(struct xdp_md *ctx)
{
	struct lb_hash_probe in;

	if (bpf_xdp_load_bytes(ctx, 14, &in, sizeof(in)))
		return XDP_ABORTED;
	in.hash =
	    lb_hash(in.src, in.dst, in.sport, in.dport, in.proto, in.family, in.fields, in.seed);
	if (bpf_xdp_store_bytes(ctx, 14, &in, sizeof(in)))
		return XDP_ABORTED;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
