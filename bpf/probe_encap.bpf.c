// SPDX-License-Identifier: GPL-2.0
/*
 * Via-VIP health probes (tc clsact egress on the Rail node's interfaces). raild's probe socket
 * connects to the VIP with SO_MARK = RAIL_PROBE_MARK | id; this program wraps such packets in
 * outer IPv4 + 4-byte GRE to the backend of that id, with the backend's next-hop MAC, exactly
 * the bytes the balancer's GRE encapsulation gives a flow to that backend. The backend's decap
 * program unwraps it, the VIP on its lo answers directly to the node. Anything unmarked leaves
 * untouched after one compare. docs/health-checks.md "Via-VIP checks".
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "rail_probe_encap.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/counters.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RAIL_PROBE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct rail_probe_target);
} probe_targets SEC(".maps");

RAIL_PERCPU_COUNTERS(probe_encap_stats, struct rail_probe_counter, RAIL_PROBE_STAT_MAX);

#define PROBE_OUTER_TTL 64

struct probe_outer_v4 {
	struct iphdr ip;
	struct rail_grehdr gre;
};
_Static_assert(sizeof(struct probe_outer_v4) == 24, "probe_outer_v4 layout");

SEC("tc")
int rail_probe_encap(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	const struct rail_probe_target *t;
	struct probe_outer_v4 o = {};
	__u32 mark = skb->mark, len = skb->len;
	struct ethhdr *eth = data;
	struct iphdr *iph;

	if ((mark & RAIL_PROBE_MARK_MASK) != RAIL_PROBE_MARK)
		return TC_ACT_OK;
	t = bpf_map_lookup_elem(&probe_targets, &mark);
	/* A marked probe must never leave plain: it would reach whatever the VIP route says. */
	if (!t || (void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto no_target;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		goto no_target;

	o.ip.version = 4;
	o.ip.ihl = 5;
	o.ip.tos = iph->tos;
	o.ip.tot_len = bpf_htons(len - sizeof(struct ethhdr) + sizeof(o));
	o.ip.frag_off = iph->frag_off & bpf_htons(0x4000); /* DF copied */
	o.ip.ttl = PROBE_OUTER_TTL;
	o.ip.protocol = IPPROTO_GRE;
	o.ip.saddr = t->source4;
	o.ip.daddr = t->backend4;
	o.ip.check = ipv4_csum_20(&o.ip);
	o.gre.protocol = bpf_htons(ETH_P_IP);
	if (bpf_skb_adjust_room(skb, (__s32)sizeof(o), BPF_ADJ_ROOM_MAC,
				BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_GRE))
		goto error;
	if (bpf_skb_store_bytes(skb, sizeof(struct ethhdr), &o, sizeof(o), 0) ||
	    bpf_skb_store_bytes(skb, 0, t->dst_mac, 6, 0) ||
	    bpf_skb_store_bytes(skb, 6, t->src_mac, 6, 0))
		goto error;
	rail_count(probe_encap_stats, RAIL_PROBE_STAT_ENCAPSULATED, len);
	return TC_ACT_OK;
no_target:
	rail_count(probe_encap_stats, RAIL_PROBE_STAT_NO_TARGET, len);
	return TC_ACT_SHOT;
error:
	rail_count(probe_encap_stats, RAIL_PROBE_STAT_ERRORS, len);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
