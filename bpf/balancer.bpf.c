// SPDX-License-Identifier: GPL-2.0
/*
 * The Rail balancer: XDP program on the node's ingress interface. docs/packet-path.md is the
 * contract and core/forwarder/ the reference it must match byte for byte; this file is the
 * classification order of §2, the helpers live in lib/lb_*.h. Design notes: docs/xdp.md.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "rail_abi.h"
#include "lib/lb_maps.h"
#include "lib/lb_parse.h"
#include "lib/lb_ctx.h"
#include "lib/lb_select.h"
#include "lib/lb_encap.h"
#include "lib/lb_icmp.h"
#include "lib/lb_stats.h"
#include "lib/lb_fast.h"

static __always_inline void lb_drop(struct lb_ctx *c, __u32 reason)
{
	c->v.action = RAIL_VERDICT_DROP;
	c->v.reason = reason;
}

static __always_inline void lb_pass(struct lb_ctx *c)
{
	c->v.action = RAIL_VERDICT_PASS;
}

/*
 * Is the destination really a VIP? Asked only by packets that the filter let through and that
 * no service took (lb_vip_maybe() has false positives, never false negatives): the hash lookup
 * stays off the paths that find their service.
 */
static __always_inline int lb_is_vip(struct lb_ctx *c)
{
	if (!c->is_vip)
		c->is_vip = lb_vip_confirm(c->p.dst, c->p.family);
	return c->is_vip;
}

/* No service takes the packet: dropped for `reason` if it is for a VIP, else not ours. */
static __always_inline void lb_refuse(struct lb_ctx *c, __u32 reason)
{
	if (lb_is_vip(c))
		lb_drop(c, reason);
	else
		lb_pass(c);
}

static __always_inline void lb_take_service(struct lb_ctx *c, const struct rail_service *svc)
{
	c->service_id = svc->service_id;
	c->hash_fields = svc->hash_fields;
	c->encap = svc->encap;
}

/*
 * The flow hash of the packet's own 5-tuple, computed on first need: a connection-table hit
 * with a GRE/IPIP IPv4 outer header never needs it. Paths that hash something else (later
 * fragments, ICMP errors) set it and have_hash themselves.
 */
static __always_inline __u32 lb_pkt_hash(struct lb_ctx *c)
{
	struct lb_pkt *p = &c->p;

	if (!c->have_hash) {
		c->hash = lb_hash(p->src, p->dst, p->sport, p->dport, p->proto, p->family,
				  c->hash_fields, lb_seed());
		c->have_hash = 1;
	}
	return c->hash;
}

/* §6-§7: encapsulate towards the chosen backend, or answer "too big". */
static __always_inline void lb_send(struct xdp_md *ctx, struct lb_ctx *c)
{
	struct rail_node_config *node = lb_node();
	struct lb_pkt *p = &c->p;
	__u32 id = c->backend_id;
	struct rail_backend *be;
	__u32 overhead, ip_len, hash = 0;

	be = bpf_map_lookup_elem(&rail_backends, &id);
	if (!be || be->family == 0)
		return lb_drop(c, RAIL_DROP_NO_BACKEND);
	if ((be->mac[0] | be->mac[1] | be->mac[2] | be->mac[3] | be->mac[4] | be->mac[5]) == 0)
		return lb_drop(c, RAIL_DROP_NO_NEXTHOP);
	if (!node) /* cannot happen: an array always has entry 0 */
		return lb_drop(c, RAIL_DROP_ADJUST_FAILED);
	overhead = lb_overhead(c->encap, be->family);
	ip_len = p->l3_end - p->l3_off;
	if (overhead != 0 && overhead + ip_len > node->mtu) {
		if (p->family == RAIL_AF_INET && !p->df)
			return lb_drop(c, RAIL_DROP_TOO_BIG_NO_DF);
		/* Answered by lb_vip() once this returns: the reply's buffers then never stack
		 * on top of a cold path's frame. */
		c->too_big_mtu = node->mtu - overhead;
		c->v.action = LB_VERDICT_TOO_BIG;
		c->v.service_id = c->service_id;
		return;
	}
	if (lb_encap_needs_hash(c->encap, be->family))
		hash = lb_pkt_hash(c);
	if (lb_encap(ctx, p, c->encap, hash, be, node))
		return lb_drop(c, RAIL_DROP_ADJUST_FAILED);
	c->v.action = RAIL_VERDICT_TX;
	c->v.service_id = c->service_id;
	c->v.backend_id = id;
}

/* §4: a fragment without the L4 header follows its first fragment, else the 3-tuple. */
static __always_inline void lb_later_fragment_(struct xdp_md *ctx, struct lb_ctx *c)
{
	struct lb_pkt *p = &c->p;
	struct rail_frag_key key;
	struct rail_service *svc;
	struct rail_frag *hit;
	__u32 sid;

	lb_frag_key(&key, p);
	c->backend_id = RAIL_NO_BACKEND;
	hit = bpf_map_lookup_elem(&rail_fragments, &key);
	if (hit) {
		sid = hit->service_id;
		svc = bpf_map_lookup_elem(&rail_service_by_id, &sid);
		if (svc && svc->service_id == sid && lb_usable(hit->backend_id, sid)) {
			lb_take_service(c, svc);
			c->backend_id = hit->backend_id;
			lb_count(RAIL_CNT_FRAG_HIT);
		}
	}
	if (c->backend_id == RAIL_NO_BACKEND) {
		svc = lb_fragment_service(p);
		if (!svc)
			return lb_drop(c, RAIL_DROP_NO_SERVICE);
		lb_take_service(c, svc);
	}
	c->hash = lb_hash(p->src, p->dst, 0, 0, p->proto, p->family,
			  c->hash_fields & ~LB_PORT_FIELDS, lb_seed());
	c->have_hash = 1;
	if (c->backend_id == RAIL_NO_BACKEND) {
		c->backend_id = lb_maglev_pick(c->service_id, c->hash);
		if (c->backend_id == RAIL_NO_BACKEND)
			return lb_drop(c, RAIL_DROP_NO_BACKEND);
		lb_count(RAIL_CNT_FRAG_FALLBACK);
	}
	lb_send(ctx, c);
}

/*
 * A call, not inlined: rare, and its buffers then stay out of the main frame. Returns the
 * action so R0 holds a scalar the caller uses (clang drops an unused return value, and a
 * subprogram leaving a stack pointer in R0 is refused by the verifier).
 */
static __noinline __u32 lb_later_fragment(struct xdp_md *ctx, struct lb_ctx *c)
{
	lb_later_fragment_(ctx, c);
	return c->v.action;
}

/* §5: an ICMP error about a reply that left from this VIP goes to that flow's backend. */
static __always_inline void lb_steer_icmp_error_(struct xdp_md *ctx, struct lb_ctx *c)
{
	struct lb_pkt *p = &c->p;
	union lb_conn_key key;
	struct rail_service *svc;
	struct lb_quote q;

	if (lb_parse_quote(ctx, p, &q) || !lb_addr_eq(q.src, p->dst) ||
	    (q.proto != LB_PROTO_TCP && q.proto != LB_PROTO_UDP))
		return lb_drop(c, RAIL_DROP_ICMP_UNMATCHED);
	svc = lb_find_service(p, q.proto, q.sport);
	if (!svc)
		return lb_drop(c, RAIL_DROP_ICMP_UNMATCHED);
	lb_take_service(c, svc);
	/* The flow is the reverse of the quoted reply: client -> VIP. */
	lb_conn_key_fill(&key, q.dst, q.src, q.dport, q.sport, q.proto, p->family);
	c->hash =
	    lb_hash(q.dst, q.src, q.dport, q.sport, q.proto, p->family, c->hash_fields, lb_seed());
	c->have_hash = 1;
	c->backend_id =
	    lb_conn_use(lb_conn_find(&key, p->family), q.proto, c->service_id, lb_now(), 0, 0);
	if (c->backend_id == RAIL_NO_BACKEND)
		c->backend_id = lb_maglev_pick(c->service_id, c->hash);
	if (c->backend_id == RAIL_NO_BACKEND)
		return lb_drop(c, RAIL_DROP_NO_BACKEND);
	lb_count(RAIL_CNT_ICMP_ERR_STEERED);
	lb_send(ctx, c);
}

/*
 * A call, not inlined: rare, and its buffers then stay out of the main frame. Returns the
 * action so R0 holds a scalar the caller uses (clang drops an unused return value, and a
 * subprogram leaving a stack pointer in R0 is refused by the verifier).
 */
static __noinline __u32 lb_steer_icmp_error(struct xdp_md *ctx, struct lb_ctx *c)
{
	lb_steer_icmp_error_(ctx, c);
	return c->v.action;
}

static __always_inline int lb_is_icmp_error(int v6, __u8 type)
{
	if (v6)
		return type >= 1 && type <= 4;	      /* RFC 4443 §3 */
	return type == 3 || type == 11 || type == 12; /* RFC 792 */
}

/* §2.6 for ICMP / ICMPv6 to a VIP. */
static __always_inline void lb_icmp(struct xdp_md *ctx, struct lb_ctx *c)
{
	struct rail_node_config *node;
	struct lb_pkt *p = &c->p;
	int v6 = p->family == RAIL_AF_INET6;

	if (lb_is_fragment(p))
		return lb_pass(c); /* fragmented ICMP to a VIP: the host's business */
	if (lb_parse_l4(ctx, p))
		return lb_drop(c, RAIL_DROP_MALFORMED_L4);
	if (p->icmp_type == (v6 ? 128 : 8)) {
		node = lb_node();
		if (!node || !(node->flags & RAIL_NODE_ICMP_ECHO))
			return lb_drop(c, RAIL_DROP_ICMP_ECHO);
		if (v6 && p->ext_count)
			return lb_pass(c);
		if (lb_echo_reply(ctx, p))
			return lb_drop(c, RAIL_DROP_ADJUST_FAILED);
		lb_count(RAIL_CNT_ICMP_ECHO_SENT);
		c->v.action = RAIL_VERDICT_TX;
		return;
	}
	if (lb_is_icmp_error(v6, p->icmp_type)) {
		c->v.action = lb_steer_icmp_error(ctx, c);
		return;
	}
	lb_pass(c);
}

/*
 * §2.5-§4: a packet to a VIP address. `found`: its flow's connection entry if the fast path
 * already looked it up (else NULL; c->conn_absent says whether it found none).
 */
static __always_inline void lb_balance(struct xdp_md *ctx, struct lb_ctx *c,
				       struct rail_conn *found)
{
	struct lb_pkt *p = &c->p;
	union lb_conn_key key;
	struct rail_service *svc;
	int syn;

	/* Until a service is found the destination may be a filter collision: every other
	 * outcome checks lb_is_vip() first (a non-VIP is PASSed whatever it looks like). */
	if (lb_walk_ext(ctx, p))
		return lb_refuse(c, RAIL_DROP_MALFORMED_L3);
	if (p->proto == (p->family == RAIL_AF_INET6 ? LB_PROTO_ICMPV6 : LB_PROTO_ICMP)) {
		if (!lb_is_vip(c))
			return lb_pass(c);
		return lb_icmp(ctx, c);
	}
	if (p->proto != LB_PROTO_TCP && p->proto != LB_PROTO_UDP)
		return lb_refuse(c, RAIL_DROP_NO_SERVICE);
	if (p->frag_off) {
		if (!lb_is_vip(c))
			return lb_pass(c);
		c->v.action = lb_later_fragment(ctx, c);
		return;
	}
	if (lb_parse_l4(ctx, p))
		return lb_refuse(c, RAIL_DROP_MALFORMED_L4);
	svc = lb_find_service(p, p->proto, p->dport);
	if (!svc)
		return lb_refuse(c, RAIL_DROP_NO_SERVICE);
	c->is_vip = 1;
	lb_take_service(c, svc);
	lb_conn_key_fill(&key, p->src, p->dst, p->sport, p->dport, p->proto, p->family);
	/* The clock only for packets that reach the connection table. */
	c->now = lb_now();
	/* A SYN (without ACK) starts a flow: always Maglev, so a reused 5-tuple follows the
	 * current table rather than a stale entry (§3). */
	syn =
	    p->proto == LB_PROTO_TCP && (p->tcp_flags & LB_TCP_SYN) && !(p->tcp_flags & LB_TCP_ACK);
	c->backend_id = RAIL_NO_BACKEND;
	/* The fast path may have looked this very key up already: its entry, or none. */
	if (!syn && !c->conn_absent) {
		if (!found)
			found = lb_conn_find(&key, p->family);
		c->backend_id =
		    lb_conn_use(found, p->proto, c->service_id, c->now, 1, c->service_gen);
		if (c->backend_id != RAIL_NO_BACKEND)
			c->v.conn_hit = 1;
	}
	if (c->backend_id == RAIL_NO_BACKEND) {
		c->backend_id = lb_maglev_pick(c->service_id, lb_pkt_hash(c));
		if (c->backend_id == RAIL_NO_BACKEND)
			return lb_drop(c, RAIL_DROP_NO_BACKEND);
		lb_conn_write(&key, p->family, c->backend_id, c->service_id, c->now,
			      c->service_gen);
		c->v.new_flow = 1;
	}
	if (lb_is_fragment(p)) { /* a first fragment: the later ones follow it (§4) */
		struct rail_frag_key fkey;
		struct rail_frag frag = {.service_id = c->service_id, .backend_id = c->backend_id};

		lb_frag_key(&fkey, p);
		bpf_map_update_elem(&rail_fragments, &fkey, &frag, BPF_ANY);
		lb_count(RAIL_CNT_FRAG_FIRST);
	}
	lb_send(ctx, c);
}

/*
 * Everything after "the destination is a VIP" (§2.5-§8), as a global function: the verifier
 * checks it once, with the parser's offsets as unknown (bounded) values, instead of once per
 * combination of VLAN, family, GRE ingress and IPv6 extension headers that led here. Costs one
 * BPF-to-BPF call on the VIP paths only. `found`: the flow's connection entry when the fast
 * path found one it could not use (may be NULL). Returns the action.
 */
__noinline int lb_vip(struct xdp_md *ctx, struct lb_ctx *c, struct rail_conn *found)
{
	if (!c)
		return RAIL_VERDICT_DROP;
	c->is_vip = 0;
	c->service_gen = lb_service_gen(); /* before any service lookup (lb_select.h) */
	lb_balance(ctx, c, found);
	/* Counted only now that the inner destination is known to be a VIP (not a collision). */
	if (c->gre_ingress && c->is_vip)
		lb_count(RAIL_CNT_GRE_INGRESS);
	if (c->v.action == LB_VERDICT_TOO_BIG) {
		if (lb_too_big(ctx, &c->p, c->too_big_mtu)) {
			lb_drop(c, RAIL_DROP_ADJUST_FAILED);
		} else {
			lb_count(RAIL_CNT_ICMP_TOO_BIG_SENT);
			c->v.action = RAIL_VERDICT_TX;
		}
	}
	return c->v.action;
}

/*
 * Can this packet be GRE to an ingress address (§2.3)? Only GRE, or IPv6 whose extension
 * headers may hide it. For anything else the ingress lookup could only lead to the VIP check
 * that follows anyway, so the pass path is left with one hash lookup.
 */
static __always_inline int lb_maybe_ingress(const struct lb_pkt *p)
{
	return p->proto == LB_PROTO_GRE ||
	       (p->family == RAIL_AF_INET6 && lb_is_ext_header(p->proto));
}

/* §2 steps 1-4: L2, L3, GRE ingress, VIP check. `found`: as for lb_vip(). */
static __always_inline void lb_classify(struct xdp_md *ctx, struct lb_ctx *c,
					struct rail_conn *found)
{
	struct lb_pkt *p = &c->p;
	__u32 inner_off = 0;
	__u16 ethertype = 0;
	int err;

	err = lb_parse_l2(ctx, p, &ethertype);
	if (err)
		return lb_drop(c, err);
	if (ethertype != LB_ETH_P_IP && ethertype != LB_ETH_P_IPV6)
		return lb_pass(c);
	err = lb_parse_l3(ctx, p, p->l2_len, p->frame_len, ethertype);
	if (err)
		return lb_drop(c, err);
	p->bytes_end = p->l3_end;

	if (lb_maybe_ingress(p) && lb_addr_in(&rail_ingress_addrs, p->dst, p->family)) {
		if (lb_walk_ext(ctx, p))
			return lb_drop(c, RAIL_DROP_MALFORMED_L3);
		if (p->proto == LB_PROTO_GRE) {
			if (lb_is_fragment(p))
				return lb_drop(c, RAIL_DROP_UNSUPPORTED_ENCAP);
			err = lb_parse_gre(ctx, p, &inner_off, &ethertype);
			if (err)
				return lb_drop(c, err);
			err = lb_parse_l3(ctx, p, inner_off, p->bytes_end, ethertype);
			if (err)
				return lb_drop(c, err);
			if (!lb_vip_maybe(p->dst, p->family))
				return lb_pass(c);
			c->gre_ingress = 1;
			c->v.action = lb_vip(ctx, c, NULL);
			return;
		}
	}
	/* §2.4 screened without a call; lb_vip() confirms where no service vouches. */
	if (!lb_vip_maybe(p->dst, p->family))
		return lb_pass(c);
	c->gre_ingress = 0;
	c->v.action = lb_vip(ctx, c, found);
}

SEC("xdp")
int rail_balancer(struct xdp_md *ctx)
{
	struct rail_conn *found = NULL;
	struct lb_ctx *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&lb_scratch, &zero);
	if (!c)
		return XDP_PASS; /* cannot happen: an array always has entry 0 */
	/* Only what every path reads is set here; the parsers and lb_balance set the rest. */
	c->p.frame_len = ctx->data_end - ctx->data;
	c->v.action = RAIL_VERDICT_PASS;
	c->v.reason = RAIL_DROP_NONE;
	c->v.service_id = RAIL_NO_BACKEND;
	c->v.backend_id = RAIL_NO_BACKEND;
	c->v.new_flow = 0;
	c->v.conn_hit = 0;
	c->have_hash = 0;
	c->conn_absent = 0;
	/* Established plain IPv4 flows and plain IPv4 non-VIP traffic decide here (lb_fast.h);
	 * the rest, untouched, takes the general path. */
	if (!lb_fast_path(ctx, c, &found))
		lb_classify(ctx, c, found);
	lb_count_verdict(&c->v, c->p.frame_len);
	if (c->v.action == RAIL_VERDICT_TX)
		return XDP_TX;
	return c->v.action == RAIL_VERDICT_PASS ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
