// SPDX-License-Identifier: GPL-2.0
/*
 * The testbed router's GRE encapsulator (tc clsact egress on the router's fabric interface).
 * After the router's ECMP route chose a Rail node, the frame leaving the interface carries that
 * node's MAC as Ethernet destination. If that MAC is a known Rail node and the destination is
 * inside a VIP prefix, the IP packet is wrapped in outer IP (same family) + 4-byte GRE to the
 * node's ingress address (docs/packet-path.md §2 step 3, "GRE ingress"). Everything else
 * leaves untouched. This kernel has no GRE module, hence this program. docs/router-encap.md.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "rail_router_encap.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/counters.h"

/* Outer source addresses (the router's fabric address), written by the loader before load. */
const volatile __u32 outer_src4 = 0;		   /* network byte order */
const volatile __u32 outer_src6[4] = {0, 0, 0, 0}; /* network byte order */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RAIL_ROUTER_ENCAP_MAX_NODES);
	__type(key, struct rail_router_node_key);
	__type(value, struct rail_router_node);
} router_encap_nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RAIL_ROUTER_ENCAP_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rail_router_vip4_key);
	__type(value, __u8);
} router_encap_vips4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RAIL_ROUTER_ENCAP_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rail_router_vip6_key);
	__type(value, __u8);
} router_encap_vips6 SEC(".maps");

RAIL_PERCPU_COUNTERS(router_encap_stats, struct rail_router_encap_counter,
		     RAIL_ROUTER_ENCAP_STAT_MAX);

#define GRE_OUTER_TTL 64

/* Outer headers as written after the Ethernet header (no padding: all 4-byte aligned). */
struct outer_v4 {
	struct iphdr ip;
	struct rail_grehdr gre;
};
_Static_assert(sizeof(struct outer_v4) == RAIL_ROUTER_ENCAP_OVERHEAD_V4, "outer_v4 layout");

struct outer_v6 {
	struct ipv6hdr ip;
	struct rail_grehdr gre;
};
_Static_assert(sizeof(struct outer_v6) == RAIL_ROUTER_ENCAP_OVERHEAD_V6, "outer_v6 layout");

static __always_inline int vip4(__u32 daddr)
{
	struct rail_router_vip4_key key = {.prefixlen = 32, .addr = daddr};

	return bpf_map_lookup_elem(&router_encap_vips4, &key) != NULL;
}

static __always_inline int vip6(const struct in6_addr *daddr)
{
	struct rail_router_vip6_key key = {.prefixlen = 128};

	__builtin_memcpy(key.addr, daddr, sizeof(key.addr));
	return bpf_map_lookup_elem(&router_encap_vips6, &key) != NULL;
}

/*
 * Would the frame exceed the egress interface's MTU once `overhead` bytes longer? The stack
 * checked the MTU before this hook, and a veth silently drops what is too big. (GSO packets
 * are not checked here: the kernel resegments them.)
 */
static __always_inline int too_big(struct __sk_buff *skb, __s32 overhead)
{
	__u32 mtu = 0;

	return bpf_check_mtu(skb, 0, &mtu, overhead, 0) == BPF_MTU_CHK_RET_FRAG_NEEDED;
}

/* Grows the room after the Ethernet header by `len` and writes `hdr` there. 0 or -1. */
static __always_inline int push_outer(struct __sk_buff *skb, void *hdr, __u32 len, __u64 flags)
{
	if (bpf_skb_adjust_room(skb, (__s32)len, BPF_ADJ_ROOM_MAC, flags))
		return -1;
	/* Cannot fail once the room exists; if it did, the frame would carry garbage. */
	if (bpf_skb_store_bytes(skb, sizeof(struct ethhdr), hdr, len, 0))
		return -2;
	return 0;
}

/* IPv4 inside IPv4: header fields as docs/router-encap.md lists them. */
static __always_inline int encap_v4(struct __sk_buff *skb, const struct rail_router_node *node,
				    const struct iphdr *inner, __u32 inner_len)
{
	struct outer_v4 o = {};

	o.ip.version = 4;
	o.ip.ihl = 5;
	o.ip.tos = inner->tos;
	o.ip.tot_len = bpf_htons(inner_len + sizeof(o));
	o.ip.frag_off = inner->frag_off & bpf_htons(0x4000); /* DF copied, never fragments */
	o.ip.ttl = GRE_OUTER_TTL;
	o.ip.protocol = IPPROTO_GRE;
	o.ip.saddr = outer_src4;
	o.ip.daddr = node->addr4;
	o.ip.check = ipv4_csum_20(&o.ip);
	o.gre.protocol = bpf_htons(ETH_P_IP);
	return push_outer(skb, &o, sizeof(o),
			  BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_GRE);
}

/* IPv6 inside IPv6. */
static __always_inline int encap_v6(struct __sk_buff *skb, const struct rail_router_node *node,
				    const struct ipv6hdr *inner, __u32 inner_len)
{
	struct outer_v6 o = {};

	/* Version, traffic class and flow label copied: the flow label keeps its ECMP entropy. */
	__builtin_memcpy(&o.ip, inner, 4);
	o.ip.payload_len = bpf_htons(inner_len + sizeof(struct rail_grehdr));
	o.ip.nexthdr = IPPROTO_GRE;
	o.ip.hop_limit = GRE_OUTER_TTL;
	o.ip.saddr.in6_u.u6_addr32[0] = outer_src6[0];
	o.ip.saddr.in6_u.u6_addr32[1] = outer_src6[1];
	o.ip.saddr.in6_u.u6_addr32[2] = outer_src6[2];
	o.ip.saddr.in6_u.u6_addr32[3] = outer_src6[3];
	__builtin_memcpy(&o.ip.daddr, node->addr6, sizeof(o.ip.daddr));
	o.gre.protocol = bpf_htons(ETH_P_IPV6);
	return push_outer(skb, &o, sizeof(o),
			  BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 | BPF_F_ADJ_ROOM_ENCAP_L4_GRE);
}

SEC("tc")
int rail_router_gre_encap(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct rail_router_node_key key = {};
	const struct rail_router_node *node;
	struct cursor c;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct ipv6hdr *ip6h;
	__u32 l2_len, hdr_len, len = skb->len;
	int proto, ret = 1; /* 1: not for encapsulation */

	cursor_init(&c, data, data_end);
	proto = parse_ethhdr(&c, &eth, &l2_len);
	/* An in-band VLAN tag (stacked tags; a single tag lives in skb->vlan_tci) is passed. */
	if (proto < 0 || l2_len != sizeof(struct ethhdr))
		goto pass;
	__builtin_memcpy(key.mac, eth->h_dest, sizeof(key.mac));
	node = bpf_map_lookup_elem(&router_encap_nodes, &key);
	if (!node)
		goto pass;

	if (proto == ETH_P_IP) {
		if (!(node->flags & RAIL_ROUTER_NODE_HAS_V4))
			goto pass;
		if (parse_iphdr(&c, &iph, &hdr_len) < 0 || !vip4(iph->daddr))
			goto pass;
		/* A datagram longer than the frame is not ours to carry: the stack decides. */
		if (bpf_ntohs(iph->tot_len) > len - l2_len)
			goto pass;
		if (too_big(skb, RAIL_ROUTER_ENCAP_OVERHEAD_V4))
			goto plain;
		ret = encap_v4(skb, node, iph, len - l2_len);
	} else if (proto == ETH_P_IPV6) {
		if (!(node->flags & RAIL_ROUTER_NODE_HAS_V6))
			goto pass;
		if (parse_ip6hdr(&c, &ip6h) < 0 || !vip6(&ip6h->daddr))
			goto pass;
		if (sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len) > len - l2_len)
			goto pass;
		if (too_big(skb, RAIL_ROUTER_ENCAP_OVERHEAD_V6))
			goto plain;
		ret = encap_v6(skb, node, ip6h, len - l2_len);
	}
	if (ret == 0) {
		rail_count(router_encap_stats, RAIL_ROUTER_ENCAP_STAT_ENCAPSULATED, len);
		return TC_ACT_OK;
	}
	if (ret == -1) { /* no room made: the frame is intact, send it on as it was */
		rail_count(router_encap_stats, RAIL_ROUTER_ENCAP_STAT_ERRORS, len);
		return TC_ACT_OK;
	}
	if (ret == -2) { /* room made but not filled: never send that (counted) */
		rail_count(router_encap_stats, RAIL_ROUTER_ENCAP_STAT_ERRORS, len);
		return TC_ACT_SHOT;
	}
	goto pass; /* neither IPv4 nor IPv6 (ARP...) */
plain:
	/* No ICMP from here; the plain packet still reaches the node (which balances it as if
	 * encapsulated) and the counter shows the link MTU is too small for GRE. */
	rail_count(router_encap_stats, RAIL_ROUTER_ENCAP_STAT_TOO_BIG, len);
	return TC_ACT_OK;
pass:
	rail_count(router_encap_stats, RAIL_ROUTER_ENCAP_STAT_PASSED, len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
