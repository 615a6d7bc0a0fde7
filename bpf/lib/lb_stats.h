/* Balancer counters: per-CPU verdict/reason/event counts and per-service/backend traffic (§9). */
#ifndef RAIL_BPF_LIB_LB_STATS_H
#define RAIL_BPF_LIB_LB_STATS_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "rail_abi.h"
#include "lib/lb_maps.h"
#include "lib/lb_ctx.h"

/* This CPU's counters (per-CPU: no atomics needed, user space sums the CPUs). */
static __always_inline struct rail_counter_block *lb_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&rail_counters, &zero);
}

/* One event of a cold path; the hot paths' events ride on the verdict (lb_count_verdict). */
static __always_inline void lb_count(__u32 index)
{
	struct rail_counter_block *b = lb_counters();

	if (b && index < RAIL_CNT_MAX)
		b->count[index] += 1;
}

static __always_inline void lb_count_traffic(void *map, __u32 id, __u32 bytes, __u32 new_flow)
{
	struct rail_traffic *t = bpf_map_lookup_elem(map, &id);

	if (!t)
		return;
	t->packets++;
	t->bytes += bytes;
	t->new_flows += new_flow;
}

static __always_inline void lb_count_verdict(const struct lb_verdict *v, __u32 frame_len)
{
	struct rail_counter_block *b = lb_counters();
	__u32 idx;

	if (!b)
		return;
	b->count[RAIL_CNT_RX] += 1;
	if (v->action == RAIL_VERDICT_PASS) {
		b->count[RAIL_CNT_PASS] += 1;
		return; /* nothing else happens to a passed packet */
	}
	if (v->action == RAIL_VERDICT_TX) {
		b->count[RAIL_CNT_TX] += 1;
	} else {
		b->count[RAIL_CNT_DROP] += 1;
		idx = RAIL_CNT_DROP_REASON_BASE + (v->reason & 0x1f);
		if (idx < RAIL_CNT_MAX)
			b->count[idx] += 1;
	}
	b->count[RAIL_CNT_NEW_FLOWS] += v->new_flow;
	b->count[RAIL_CNT_CONN_HITS] += v->conn_hit;
	if (v->service_id != RAIL_NO_BACKEND)
		lb_count_traffic(&rail_service_stats, v->service_id, frame_len, v->new_flow);
	if (v->backend_id != RAIL_NO_BACKEND)
		lb_count_traffic(&rail_backend_stats, v->backend_id, frame_len, v->new_flow);
}

#endif /* RAIL_BPF_LIB_LB_STATS_H */
