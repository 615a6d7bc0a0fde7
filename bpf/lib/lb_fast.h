/* The established-flow fast path: a known plain IPv4 TCP/UDP flow with one hash lookup. */
#ifndef RAIL_BPF_LIB_LB_FAST_H
#define RAIL_BPF_LIB_LB_FAST_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "rail_abi.h"
#include "lib/lb_maps.h"
#include "lib/lb_parse.h"
#include "lib/lb_ctx.h"
#include "lib/lb_select.h"
#include "lib/lb_encap.h"

/*
 * The common packets of a busy node, decided before (and without) the general path of
 * balancer.bpf.c, which costs a BPF-to-BPF call (lb_vip) and a rail_services lookup on top of
 * the connection lookup (each call ~15 ns with return-thunk mitigations, docs/xdp.md):
 * - a frame without 802.1Q tag carrying an IPv4 header without options, not GRE (so never
 *   GRE ingress), to an address the VIP filter rules out: PASS, as the general path would;
 * - a non-fragment TCP (not SYN-without-ACK) or UDP packet to a possible VIP whose flow has a
 *   connection entry that is not idle, stamped with the current rail_service_gen (so its
 *   service is the one the rail_services lookup would return), or a positive slot for it in
 *   this CPU's flow cache filled under the current generation (lb_select.h: a copy of such an
 *   entry, of the backend a new pick also gives), whose service slot and backend are live and
 *   usable, whose backend's next hop is known, that fits the MTU once encapsulated and whose
 *   outer header needs no flow hash (GRE, IPIP or L2 towards an IPv4 backend): the general
 *   path would send it to that backend, and so does this.
 * Anything else returns 0 before the frame or any map but the flow cache was changed, and the
 * general path takes the packet from the start, exactly as if this did not exist, except that
 * the lookup is not repeated: a miss is remembered in c->conn_absent, a found entry this path
 * could not use (stale generation, idle, GUE or IPv6 outer header, ...) is handed over in
 * *found.
 * Returns 1 when c->v is the packet's verdict (and the frame rewritten for TX).
 */
static __always_inline int lb_fast_path(struct xdp_md *ctx, struct lb_ctx *c,
					struct rail_conn **found)
{
	__u8 *data = (__u8 *)(long)ctx->data;
	__u8 *end = (__u8 *)(long)ctx->data_end;
	struct rail_node_config *node;
	struct lb_pkt *p = &c->p;
	struct rail_service *svc;
	struct rail_backend *be;
	struct rail_flow_cache_slot *slot;
	struct rail_conn *conn;
	struct rail_flow_key4 key;
	__u32 tot, sid, bid, overhead, gen, cgen;
	__u8 *ip = data + 14, *l4 = data + 34;
	__u64 now, age;
	__u8 proto;
	int hit, fill;

	if (l4 > end || *(__be16 *)(data + 12) != bpf_htons(LB_ETH_P_IP) || ip[0] != 0x45)
		return 0;
	tot = bpf_ntohs(*(__be16 *)(ip + 2));
	if (tot < 20 || 14 + tot > p->frame_len)
		return 0; /* malformed: the general path names the drop */
	proto = ip[9];
	if (proto == LB_PROTO_GRE)
		return 0; /* may be GRE to an ingress address (§2.3) */
	key.dst = *(__u32 *)(ip + 16);
	if (!lb_vip_maybe(&key.dst, RAIL_AF_INET)) {
		c->v.action = RAIL_VERDICT_PASS;
		return 1;
	}
	if (proto != LB_PROTO_TCP && proto != LB_PROTO_UDP)
		return 0;
	if (*(__be16 *)(ip + 6) & bpf_htons(0x3fff))
		return 0; /* MF or an offset: fragments follow the fragment table (§4) */
	if (proto == LB_PROTO_TCP) {
		if (tot < 40 || l4 + 20 > end)
			return 0;
		if ((l4[13] & (LB_TCP_SYN | LB_TCP_ACK)) == LB_TCP_SYN)
			return 0; /* a SYN always takes Maglev (§3) */
	} else if (tot < 28 || l4 + 8 > end) {
		return 0;
	}
	key.src = *(__u32 *)(ip + 12);
	key.sport = *(__be16 *)l4;
	key.dport = *(__be16 *)(l4 + 2);
	key.proto = proto;
	key.pad[0] = key.pad[1] = key.pad[2] = 0;
	now = lb_now();
	cgen = lb_flow_cache_gen();
	slot = lb_flow_cache_slot(&key, cgen);
	hit = slot && lb_flow_cache_hit(slot, &key, cgen, now);
	if (hit && slot->backend_id != RAIL_NO_BACKEND) {
		/* What the table said of this flow less than lb_flow_cache_ticks ago. */
		conn = NULL;
		age = 0;
		sid = slot->service_id;
		bid = slot->backend_id;
	} else {
		gen = lb_service_gen(); /* before the lookup, as wherever an entry is stamped */
		conn = bpf_map_lookup_elem(&rail_conntrack4, &key);
		if (!conn) {
			c->conn_absent = 1;
			return 0;
		}
		*found = conn; /* only read if this returns 0 */
		age = lb_conn_age(conn, now);
		if (age > lb_conn_timeout(proto) || conn->service_gen != gen)
			return 0;
		sid = conn->service_id;
		bid = conn->backend_id;
	}
	svc = bpf_map_lookup_elem(&rail_service_by_id, &sid);
	if (!svc || svc->service_id != sid)
		return 0;
	be = lb_usable_backend(bid, sid);
	node = lb_node();
	if (!be || !node)
		return 0;
	if ((be->mac[0] | be->mac[1] | be->mac[2] | be->mac[3] | be->mac[4] | be->mac[5]) == 0)
		return 0;
	overhead = lb_overhead(svc->encap, be->family);
	if (overhead != 0 && overhead + tot > node->mtu)
		return 0;
	/* GUE and IPv6 outer headers carry the flow hash: left to the general path, which has
	 * the one inlined copy of the hash code. */
	if (lb_encap_needs_hash(svc->encap, be->family))
		return 0;
	/* Committed: from here on this is the general path's hit, byte for byte. */
	if (conn) {
		fill = slot && !hit && !lb_flow_cache_fresh(slot, cgen, now);
		if (age > lb_conn_refresh_ns || (fill && lb_flow_cache_stale(now, age))) {
			conn->last_seen_ns = now;
			age = 0;
		}
		/* Stamped with the entry's last_seen, not now: the slot is then trusted only
		 * while the entry itself is (window <= half the timeout). */
		if (fill)
			lb_flow_cache_fill(slot, &key, bid, sid, svc->hash_fields, cgen, now - age);
	}
	c->v.conn_hit = 1;
	p->l3_off = 14;
	p->l3_end = 14 + tot;
	p->has_vlan = 0;
	p->family = RAIL_AF_INET;
	p->tos = ip[1];
	if (lb_encap(ctx, p, svc->encap, 0, be, node)) {
		c->v.action = RAIL_VERDICT_DROP;
		c->v.reason = RAIL_DROP_ADJUST_FAILED;
		return 1;
	}
	c->v.action = RAIL_VERDICT_TX;
	c->v.service_id = sid;
	c->v.backend_id = bid;
	return 1;
}

#endif /* RAIL_BPF_LIB_LB_FAST_H */
