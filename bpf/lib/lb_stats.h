/* Balancer counters: per-CPU verdict/reason/event counts and per-service/backend traffic (§9). */
#ifndef RAIL_BPF_LIB_LB_STATS_H
#define RAIL_BPF_LIB_LB_STATS_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "rail_abi.h"
#include "lib/lb_maps.h"
#include "lib/lb_ctx.h"

/* Per-CPU: no atomics needed, user space sums the CPUs. */
static __always_inline void lb_count(__u32 index)
{
	__u64 *v = bpf_map_lookup_elem(&rail_counters, &index);

	if (v)
		*v += 1;
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
	lb_count(RAIL_CNT_RX);
	if (v->action == RAIL_VERDICT_PASS) {
		lb_count(RAIL_CNT_PASS);
	} else if (v->action == RAIL_VERDICT_TX) {
		lb_count(RAIL_CNT_TX);
	} else {
		lb_count(RAIL_CNT_DROP);
		lb_count(RAIL_CNT_DROP_REASON_BASE + (v->reason & 0x1f));
	}
	if (v->new_flow)
		lb_count(RAIL_CNT_NEW_FLOWS);
	if (v->service_id != RAIL_NO_BACKEND)
		lb_count_traffic(&rail_service_stats, v->service_id, frame_len, v->new_flow);
	if (v->backend_id != RAIL_NO_BACKEND)
		lb_count_traffic(&rail_backend_stats, v->backend_id, frame_len, v->new_flow);
}

#endif /* RAIL_BPF_LIB_LB_STATS_H */
