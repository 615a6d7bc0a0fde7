// SPDX-License-Identifier: GPL-2.0
/*
 * Baseline XDP programs for benchmarks and live tests: the fixed cost of running *any* XDP
 * program (subtracted from the balancer's test-run times), the best rate an XDP_TX forwarder
 * can reach over a veth (the live-rate reference), and the sink that counts what comes back.
 * They touch no packet bytes, so whatever they cost is the harness, not the work.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Packets seen by xdp_count_drop, per CPU so the sink never contends with itself. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_packets SEC(".maps");

/* Hands the frame to the stack: the empty program, and the peer that makes veth XDP_TX work. */
SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/*
 * Sends the frame back out unchanged: the live-rate baseline in the balancer's place, and
 * the packet generator when run through BPF_PROG_RUN in live-frames mode.
 */
SEC("xdp")
int xdp_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

/* Counts and drops: the receiving end of the live-rate measurement. */
SEC("xdp")
int xdp_count_drop(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *packets = bpf_map_lookup_elem(&sink_packets, &key);

	if (packets)
		*packets += 1;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
