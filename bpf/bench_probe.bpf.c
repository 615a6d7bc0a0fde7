// SPDX-License-Identifier: GPL-2.0
/*
 * Floors for rail_xdp_bench (docs/xdp-benchmarks.md): what the hardware and kernel charge for
 * the least an XDP load balancer must do, measured beside the balancer in the same run.
 * - xdp_conn_probe: ONE lookup in a connection table of the type, key and value of the
 *   balancer's IPv4 table (LRU hash, BPF_F_NO_COMMON_LRU, struct rail_flow_key4 -> struct
 *   rail_conn), filled by user space with the same working set: the floor of an established
 *   IPv4 packet.
 * - xdp_conn_insert_probe: ONE bpf_map_update_elem (BPF_ANY, as the balancer writes) of the
 *   frame's flow into that table, which the benchmark loads empty and sends fresh flows: the
 *   floor of the insert a SYN's path makes.
 * - xdp_conn_miss_insert_probe: one lookup that misses, then that insert: the floor of a new
 *   flow's non-SYN packet (new_non_syn).
 * - xdp_tx_gre: the live-rate like-for-like reference: grows the head by the 24 bytes of an
 *   IPv4 + GRE header, writes Ethernet, outer IPv4 (with its checksum) and GRE, and XDP_TXes,
 *   with no lookup at all: what any GRE-encapsulating forwarder pays per packet.
 * All assume the frame the benchmark sends (untagged Ethernet, IPv4 without options, TCP).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "rail_abi.h"

/* Sized by the benchmark before load (1 entry by default: loading costs nothing then). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct rail_flow_key4);
	__type(value, struct rail_conn);
} probe_conntrack SEC(".maps");

/* The frame's flow keyed as the balancer's IPv4 table keys it; -1 if the frame is short. */
static __always_inline int probe_key(struct xdp_md *ctx, struct rail_flow_key4 *key)
{
	__u8 *data = (__u8 *)(long)ctx->data;
	__u8 *end = (__u8 *)(long)ctx->data_end;
	__u8 *ip = data + 14;

	if (ip + 24 > end)
		return -1;
	key->src = *(__u32 *)(ip + 12);
	key->dst = *(__u32 *)(ip + 16);
	key->sport = *(__u16 *)(ip + 20);
	key->dport = *(__u16 *)(ip + 22);
	key->proto = ip[9];
	return 0;
}

/* XDP_TX if the frame's IPv4 TCP/UDP flow is in probe_conntrack, XDP_DROP if not. */
SEC("xdp")
int xdp_conn_probe(struct xdp_md *ctx)
{
	struct rail_flow_key4 key = {};

	if (probe_key(ctx, &key))
		return XDP_PASS;
	return bpf_map_lookup_elem(&probe_conntrack, &key) ? XDP_TX : XDP_DROP;
}

/* A value as the balancer writes one (lb_conn_write), without its clock read. */
static __always_inline long probe_insert(const struct rail_flow_key4 *key)
{
	struct rail_conn conn = {
	    .backend_id = 1,
	    .service_id = 1,
	    .last_seen_ns = 1,
	    .service_gen = 1,
	};

	return bpf_map_update_elem(&probe_conntrack, key, &conn, BPF_ANY);
}

/* XDP_TX if the frame's flow was written into probe_conntrack, XDP_DROP if the update failed. */
SEC("xdp")
int xdp_conn_insert_probe(struct xdp_md *ctx)
{
	struct rail_flow_key4 key = {};

	if (probe_key(ctx, &key))
		return XDP_PASS;
	return probe_insert(&key) ? XDP_DROP : XDP_TX;
}

/* XDP_TX if the frame's flow was NOT in probe_conntrack and has been written; else XDP_DROP. */
SEC("xdp")
int xdp_conn_miss_insert_probe(struct xdp_md *ctx)
{
	struct rail_flow_key4 key = {};

	if (probe_key(ctx, &key))
		return XDP_PASS;
	if (bpf_map_lookup_elem(&probe_conntrack, &key))
		return XDP_DROP;
	return probe_insert(&key) ? XDP_DROP : XDP_TX;
}

/* An IPv4 + GRE encapsulation of the frame's IP packet, sent back out (no lookup). */
SEC("xdp")
int xdp_tx_gre(struct xdp_md *ctx)
{
	__u8 *data, *end;
	__be16 *w;
	__u32 sum = 0, len;

	if (bpf_xdp_adjust_head(ctx, -24))
		return XDP_DROP;
	data = (__u8 *)(long)ctx->data;
	end = (__u8 *)(long)ctx->data_end;
	if (data + 38 > end)
		return XDP_DROP;
	len = end - data - 14;
	/* Ethernet: the original addresses, swapped (they now sit 24 bytes further). */
	__builtin_memcpy(data, data + 24 + 6, 6);
	__builtin_memcpy(data + 6, data + 24, 6);
	*(__be16 *)(data + 12) = bpf_htons(0x0800);
	w = (__be16 *)(data + 14);
	w[0] = bpf_htons(0x4500);
	w[1] = bpf_htons(len);
	w[2] = 0;
	w[3] = bpf_htons(0x4000);
	w[4] = bpf_htons(64 << 8 | 47);
	w[5] = 0;
	*(__u32 *)(data + 26) = bpf_htonl(0xc6120101); /* 198.18.1.1 */
	*(__u32 *)(data + 30) = bpf_htonl(0xc6120201); /* 198.18.2.1 */
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	w[5] = (__u16)~sum;
	*(__be32 *)(data + 34) = bpf_htonl(0x0800);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
