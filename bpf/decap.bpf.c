// SPDX-License-Identifier: GPL-2.0
/*
 * Backend-side decapsulation: strip the balancer's GRE / IPIP / IPv6-in-IP / GUE tunnel from
 * packets addressed to one of this backend's tunnel endpoints and hand the inner packet to
 * the local stack, as a tc (clsact ingress) program and as an XDP program. The two share one
 * classifier; only the "strip N bytes" step differs. Deployment: docs/decap.md.
 *
 * Rule of thumb: until a packet is known to be a tunnel packet for us (local endpoint address
 * + tunnel protocol, or UDP to the GUE port), it is passed untouched; after that, anything
 * wrong is a counted drop, so a malformed tunnel packet is never half-decapsulated.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "rail_abi.h"
#include "rail_decap.h"
#include "lib/parse.h"
#include "lib/counters.h"

/*
 * bpf_skb_adjust_room() flags saying which IP version follows once the outer header is gone
 * (kernel >= 6.3: the kernel then updates skb->protocol). Spelled out because the UAPI
 * headers of Debian 12 (6.1) predate them; values from include/uapi/linux/bpf.h.
 */
#define RAIL_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#define RAIL_ADJ_ROOM_DECAP_L3_IPV6 (1ULL << 8)

/* Runtime settings, written by the loader between open and load (see DecapProgram). */
const volatile __u8 decap_any_address = 0; /* 1: decapsulate whatever the destination */
const volatile __u16 gue_port = RAIL_DECAP_DEFAULT_GUE_PORT; /* host order */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RAIL_DECAP_MAX_ADDRESSES);
	__type(key, struct rail_addr_key);
	__type(value, __u8);
} decap_addresses SEC(".maps");

RAIL_PERCPU_COUNTERS(decap_stats, struct rail_decap_counter, RAIL_DECAP_STAT_MAX);
RAIL_PERCPU_COUNTERS(decap_drops, struct rail_decap_counter, RAIL_DROP_REASON_MAX);

enum decap_action {
	DECAP_PASS,  /* not a tunnel packet for us */
	DECAP_STRIP, /* remove plan.strip bytes after the L2 header */
	DECAP_DROP,  /* a tunnel packet for us that cannot be decapsulated: plan.drop */
};

struct decap_plan {
	__u32 l2_len;	   /* 14, or 18 with one VLAN tag */
	__u32 strip;	   /* outer IP header + tunnel header, in bytes */
	__u16 inner_proto; /* ETH_P_IP or ETH_P_IPV6 */
	__u16 outer_proto; /* ETH_P_IP or ETH_P_IPV6 */
	__u32 stat;	   /* enum rail_decap_stat */
	__u32 drop;	   /* enum rail_drop_reason */
};

static __always_inline int is_local_endpoint(__u8 family, const __u32 *addr, int words)
{
	struct rail_addr_key key = {};

	if (decap_any_address)
		return 1;
	key.family = family;
	key.addr[0] = addr[0];
	if (words == 4) {
		key.addr[1] = addr[1];
		key.addr[2] = addr[2];
		key.addr[3] = addr[3];
	}
	return bpf_map_lookup_elem(&decap_addresses, &key) != NULL;
}

static __always_inline enum decap_action drop_with(struct decap_plan *plan, __u32 reason)
{
	plan->drop = reason;
	return DECAP_DROP;
}

/*
 * Decide what to do with the frame [data, data_end). `l3` bytes of outer IP header have been
 * parsed; `outer_len` is the outer datagram length (IPv4 total length, IPv6 40 + payload).
 */
static __always_inline enum decap_action classify_tunnel(struct cursor *c, void *l3, int proto,
							 __u32 outer_len, struct decap_plan *plan)
{
	struct udphdr *udph;
	__u32 gre_len = 0, offset;
	__u8 *inner;
	int ret;

	switch (proto) {
	case IPPROTO_GRE:
		plan->stat = RAIL_DECAP_STAT_GRE;
		ret = parse_grehdr(c, &gre_len);
		if (ret == RAIL_PARSE_TRUNCATED)
			return drop_with(plan, RAIL_DROP_MALFORMED_ENCAP);
		if (ret < 0)
			return drop_with(plan, RAIL_DROP_UNSUPPORTED_ENCAP);
		if (ret != ETH_P_IP && ret != ETH_P_IPV6)
			return drop_with(plan, RAIL_DROP_UNSUPPORTED_ENCAP);
		plan->inner_proto = ret;
		break;
	case IPPROTO_IPIP:
		plan->stat = RAIL_DECAP_STAT_IPIP;
		plan->inner_proto = ETH_P_IP;
		break;
	case IPPROTO_IPV6:
		plan->stat = RAIL_DECAP_STAT_IP6;
		plan->inner_proto = ETH_P_IPV6;
		break;
	case IPPROTO_UDP:
		ret = parse_udphdr(c, &udph);
		if (ret < 0 || ret != gue_port)
			return DECAP_PASS; /* ordinary UDP to this host */
		plan->stat = RAIL_DECAP_STAT_GUE;
		/* GUE variant 1: the payload starts with the inner IP header; the version
		 * nibble (0100 or 0110) tells the family (draft-ietf-intarea-gue §4). */
		inner = c->pos;
		if ((void *)(inner + 1) > c->end)
			return drop_with(plan, RAIL_DROP_MALFORMED_ENCAP);
		if ((*inner >> 4) == 4)
			plan->inner_proto = ETH_P_IP;
		else if ((*inner >> 4) == 6)
			plan->inner_proto = ETH_P_IPV6;
		else
			return drop_with(plan, RAIL_DROP_UNSUPPORTED_ENCAP); /* variant 0 */
		break;
	default:
		return DECAP_PASS;
	}

	/* The inner fixed IP header must be in the frame AND inside the outer datagram. */
	inner = c->pos;
	offset = (void *)inner - l3;
	if (plan->inner_proto == ETH_P_IP) {
		struct iphdr *iph = c->pos;

		if ((void *)(iph + 1) > c->end || offset + sizeof(*iph) > outer_len)
			return drop_with(plan, RAIL_DROP_MALFORMED_ENCAP);
		if (iph->version != 4)
			return drop_with(plan, RAIL_DROP_MALFORMED_ENCAP);
	} else {
		struct ipv6hdr *ip6h = c->pos;

		if ((void *)(ip6h + 1) > c->end || offset + sizeof(*ip6h) > outer_len)
			return drop_with(plan, RAIL_DROP_MALFORMED_ENCAP);
		if (ip6h->version != 6)
			return drop_with(plan, RAIL_DROP_MALFORMED_ENCAP);
	}
	plan->strip = offset;
	return DECAP_STRIP;
}

static __always_inline enum decap_action decap_classify(void *data, void *data_end,
							struct decap_plan *plan)
{
	struct cursor c;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct ipv6hdr *ip6h;
	__u32 hdr_len, outer_len;
	void *l3;
	int proto;

	cursor_init(&c, data, data_end);
	proto = parse_ethhdr(&c, &eth, &plan->l2_len);
	if (proto < 0)
		return DECAP_PASS;
	l3 = c.pos;
	plan->outer_proto = proto;
	if (proto == ETH_P_IP) {
		proto = parse_iphdr(&c, &iph, &hdr_len);
		if (proto < 0 || !is_local_endpoint(RAIL_AF_INET, &iph->daddr, 1))
			return DECAP_PASS;
		if (proto != IPPROTO_GRE && proto != IPPROTO_IPIP && proto != IPPROTO_IPV6 &&
		    proto != IPPROTO_UDP)
			return DECAP_PASS;
		outer_len = bpf_ntohs(iph->tot_len);
		/* A fragment of a tunnel packet: the balancer never sends one (DF + MTU), and
		 * only a reassembled datagram could be decapsulated. */
		if (iph->frag_off & bpf_htons(0x3fff))
			return proto == IPPROTO_UDP ? DECAP_PASS
						    : drop_with(plan, RAIL_DROP_UNSUPPORTED_ENCAP);
	} else if (proto == ETH_P_IPV6) {
		proto = parse_ip6hdr(&c, &ip6h);
		if (proto < 0 || !is_local_endpoint(RAIL_AF_INET6, ip6h->daddr.in6_u.u6_addr32, 4))
			return DECAP_PASS;
		outer_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	} else {
		return DECAP_PASS;
	}
	/* Ethernet padding may follow the datagram; a datagram longer than the frame may not. */
	if (l3 + outer_len > data_end) {
		if (proto == IPPROTO_GRE || proto == IPPROTO_IPIP || proto == IPPROTO_IPV6)
			return drop_with(plan, RAIL_DROP_MALFORMED_L3);
		return DECAP_PASS;
	}
	return classify_tunnel(&c, l3, proto, outer_len, plan);
}

/* Count the outcome; returns the action again for tail-calling convenience. */
static __always_inline void count(enum decap_action action, struct decap_plan *plan, __u64 len)
{
	if (action == DECAP_PASS)
		rail_count(decap_stats, RAIL_DECAP_STAT_PASS, len);
	else if (action == DECAP_DROP)
		rail_count(decap_drops, plan->drop, len);
	else
		rail_count(decap_stats, plan->stat, len);
}

SEC("xdp")
int rail_decap_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct decap_plan plan = {};
	enum decap_action action;
	struct ethhdr eth;
	struct rail_vlan_hdr vlan = {};
	__u64 len = data_end - data;

	action = decap_classify(data, data_end, &plan);
	if (action != DECAP_STRIP) {
		count(action, &plan, len);
		return action == DECAP_PASS ? XDP_PASS : XDP_DROP;
	}

	/* Keep the L2 header (and its VLAN tag), move it forward over the outer headers. */
	if (data + sizeof(eth) + sizeof(vlan) > data_end)
		return XDP_DROP; /* cannot happen: the outer headers were parsed */
	__builtin_memcpy(&eth, data, sizeof(eth));
	if (plan.l2_len != sizeof(eth)) {
		__builtin_memcpy(&vlan, data + sizeof(eth), sizeof(vlan));
		vlan.encapsulated_proto = bpf_htons(plan.inner_proto);
	} else {
		eth.h_proto = bpf_htons(plan.inner_proto);
	}
	if (bpf_xdp_adjust_head(ctx, (int)plan.strip)) {
		plan.drop = RAIL_DROP_ADJUST_FAILED;
		count(DECAP_DROP, &plan, len);
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(eth) + sizeof(vlan) > data_end)
		return XDP_DROP; /* cannot happen: the inner IP header follows */
	__builtin_memcpy(data, &eth, sizeof(eth));
	if (plan.l2_len != sizeof(eth))
		__builtin_memcpy(data + sizeof(eth), &vlan, sizeof(vlan));
	count(DECAP_STRIP, &plan, len);
	return XDP_PASS;
}

SEC("tc")
int rail_decap_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct decap_plan plan = {};
	enum decap_action action;
	__u64 flags = 0;
	__be16 ethertype;

	action = decap_classify(data, data_end, &plan);
	/* At tc ingress the stack has already taken a VLAN tag out of the frame (skb->vlan_tci);
	 * one still in-band means stacked tags we do not handle: leave it to the stack. */
	if (action == DECAP_STRIP && plan.l2_len != sizeof(struct ethhdr))
		action = DECAP_PASS;
	if (action != DECAP_STRIP) {
		count(action, &plan, skb->len);
		return action == DECAP_PASS ? TC_ACT_OK : TC_ACT_SHOT;
	}

	if (plan.inner_proto != plan.outer_proto)
		flags |= plan.inner_proto == ETH_P_IP ? RAIL_ADJ_ROOM_DECAP_L3_IPV4
						      : RAIL_ADJ_ROOM_DECAP_L3_IPV6;
	/* BPF_ADJ_ROOM_MAC removes the bytes right after the Ethernet header. */
	if (bpf_skb_adjust_room(skb, -(__s32)plan.strip, BPF_ADJ_ROOM_MAC, flags)) {
		plan.drop = RAIL_DROP_ADJUST_FAILED;
		count(DECAP_DROP, &plan, skb->len);
		return TC_ACT_SHOT;
	}
	ethertype = bpf_htons(plan.inner_proto);
	if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &ethertype,
				sizeof(ethertype), 0)) {
		plan.drop = RAIL_DROP_ADJUST_FAILED;
		count(DECAP_DROP, &plan, skb->len);
		return TC_ACT_SHOT;
	}
	count(DECAP_STRIP, &plan, skb->len + plan.strip);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
