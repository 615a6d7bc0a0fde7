/* Output frames towards a backend: GRE, IPIP/IP6IP6, GUE, L2 DSR (docs/packet-path.md §6). */
#ifndef RAIL_BPF_LIB_LB_ENCAP_H
#define RAIL_BPF_LIB_LB_ENCAP_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "rail_abi.h"
#include "lib/lb_parse.h"

#define LB_OUTER_TTL 64 /* a fresh hop count for the tunnel (the inner TTL is untouched) */

/* Bytes an encapsulation puts before the inner IP packet; 0 for L2 DSR (never grows). */
static __always_inline __u32 lb_overhead(__u8 encap, __u8 outer_family)
{
	__u32 ip = outer_family == RAIL_AF_INET6 ? 40 : 20;

	if (encap == RAIL_ENCAP_GRE)
		return ip + 4;
	if (encap == RAIL_ENCAP_GUE)
		return ip + 8;
	if (encap == RAIL_ENCAP_IPIP)
		return ip;
	return 0;
}

static __always_inline void lb_put16(__u8 *at, __u16 v)
{
	at[0] = v >> 8;
	at[1] = (__u8)v;
}

/* RFC 791 header checksum of the 20-byte IPv4 header at `h` (check field taken as zero). */
static __always_inline __u16 lb_ipv4_csum20(const __u8 *h)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 20; i += 2) {
		if (i != 10)
			sum += (__u32)h[i] << 8 | h[i + 1];
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * The Ethernet header of an output frame into buf[18]: the input's 802.1Q tag is kept as it
 * was (§6, §7, §8). Returns its length, 14 or 18.
 */
static __always_inline __u32 lb_build_eth(__u8 *buf, const __u8 *dst, const __u8 *src,
					  const struct lb_pkt *p, __u16 ethertype)
{
	__builtin_memcpy(buf, dst, 6);
	__builtin_memcpy(buf + 6, src, 6);
	if (p->has_vlan) {
		lb_put16(buf + 12, LB_ETH_P_8021Q);
		__builtin_memcpy(buf + 14, &p->vlan_tci, 2);
		lb_put16(buf + 16, ethertype);
		return 18;
	}
	lb_put16(buf + 12, ethertype);
	return 14;
}

/*
 * Turn the frame into [hdr_len bytes for the caller to write][keep bytes that started at
 * offset `from`]: move the head so the kept bytes stay where they are (no copy), then cut the
 * tail (Ethernet padding, or whatever the output does not carry).
 */
static __always_inline int lb_reframe(struct xdp_md *ctx, __u32 from, __u32 hdr_len, __u32 keep)
{
	int delta = (int)from - (int)hdr_len;
	int len;

	if (delta && bpf_xdp_adjust_head(ctx, delta))
		return -1;
	len = (int)(ctx->data_end - ctx->data);
	if (len != (int)(hdr_len + keep) && bpf_xdp_adjust_tail(ctx, (int)(hdr_len + keep) - len))
		return -1;
	return 0;
}

/* Writes the Ethernet header built by lb_build_eth() at the start of the frame. */
static __always_inline int lb_store_eth(struct xdp_md *ctx, __u8 *eth, __u32 eth_len)
{
	if (eth_len == 18)
		return bpf_xdp_store_bytes(ctx, 0, eth, 18);
	return bpf_xdp_store_bytes(ctx, 0, eth, 14);
}

static __always_inline __u8 lb_outer_proto(__u8 encap, int inner_v6)
{
	if (encap == RAIL_ENCAP_GRE)
		return LB_PROTO_GRE;
	if (encap == RAIL_ENCAP_GUE)
		return LB_PROTO_UDP;
	return inner_v6 ? LB_PROTO_IPV6 : LB_PROTO_IPIP;
}

/* Does lb_encap() towards a backend of `outer_family` need the flow hash? */
static __always_inline int lb_encap_needs_hash(__u8 encap, __u8 outer_family)
{
	return encap == RAIL_ENCAP_GUE || (encap != RAIL_ENCAP_L2 && outer_family == RAIL_AF_INET6);
}

/*
 * Encapsulate the IP packet being balanced towards `be` (§6). The inner bytes are not copied:
 * the head moves once and the new headers are written in place, a word at a time (a helper
 * store per header cost more than building them). `hash` is only read for GUE and an IPv6
 * outer header (lb_encap_needs_hash).
 */
static __always_inline int lb_encap(struct xdp_md *ctx, const struct lb_pkt *p, __u8 encap,
				    __u32 hash, const struct rail_backend *be,
				    const struct rail_node_config *node)
{
	__u32 ip_len = p->l3_end - p->l3_off;
	int inner_v6 = p->family == RAIL_AF_INET6;
	int outer_v6 = be->family == RAIL_AF_INET6;
	__u32 overhead = lb_overhead(encap, be->family);
	__u16 inner_type = inner_v6 ? LB_ETH_P_IPV6 : LB_ETH_P_IP;
	__u16 ethertype = inner_type;
	__u8 proto = lb_outer_proto(encap, inner_v6);
	__u8 *data, *end, *l3, *tun;

	if (encap != RAIL_ENCAP_L2)
		ethertype = outer_v6 ? LB_ETH_P_IPV6 : LB_ETH_P_IP;
	if (lb_reframe(ctx, p->l3_off, (p->has_vlan ? 18 : 14) + overhead, ip_len))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	/* Every output frame is at least 14 + 20 bytes: the bound only informs the verifier. */
	if (data + 18 > end)
		return -1;
	*(__u32 *)data = *(const __u32 *)&be->mac[0];
	*(__u16 *)(data + 4) = *(const __u16 *)&be->mac[4];
	*(__u16 *)(data + 6) = *(const __u16 *)&node->mac[0];
	*(__u32 *)(data + 8) = *(const __u32 *)&node->mac[2];
	l3 = data + 14;
	if (p->has_vlan) { /* the input's 802.1Q tag is kept as it was (§6) */
		*(__be16 *)(data + 12) = bpf_htons(LB_ETH_P_8021Q);
		*(__be16 *)(data + 14) = p->vlan_tci;
		l3 = data + 18;
	}
	*(__be16 *)(l3 - 2) = bpf_htons(ethertype);
	if (overhead == 0)
		return 0;

	if (outer_v6) {
		if (l3 + 40 > end)
			return -1;
		/* RFC 6438: the flow label carries the flow hash, for ECMP on the way. */
		*(__be32 *)l3 = bpf_htonl(6u << 28 | (__u32)p->tos << 20 | (hash & 0xfffff));
		*(__be16 *)(l3 + 4) = bpf_htons(overhead - 40 + ip_len);
		l3[6] = proto;
		l3[7] = LB_OUTER_TTL;
		__builtin_memcpy(l3 + 8, node->outer_src_v6, 16);
		__builtin_memcpy(l3 + 24, be->addr, 16);
		tun = l3 + 40;
	} else {
		__be16 *w = (__be16 *)l3;
		__u32 saddr = node->outer_src_v4, daddr = be->addr[0];
		__u32 sum;

		if (l3 + 20 > end)
			return -1;
		w[0] = bpf_htons(0x4500 | p->tos);
		w[1] = bpf_htons(overhead + ip_len);
		w[2] = 0;
		w[3] = bpf_htons(0x4000); /* DF: Rail never fragments, PMTUD answers instead (§7) */
		w[4] = bpf_htons(LB_OUTER_TTL << 8 | proto);
		*(__u32 *)(l3 + 12) = saddr;
		*(__u32 *)(l3 + 16) = daddr;
		/* RFC 791 sum of the words as stored (RFC 1071: byte order does not matter). */
		sum = (__u32)w[0] + w[1] + w[3] + w[4] + (saddr & 0xffff) + (saddr >> 16) +
		      (daddr & 0xffff) + (daddr >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		w[5] = (__u16)~sum;
		tun = l3 + 20;
	}
	if (encap == RAIL_ENCAP_GRE) {
		/* RFC 2784: no C/K/S, version 0; protocol = the inner ethertype. */
		if (tun + 4 > end)
			return -1;
		*(__be32 *)tun = bpf_htonl(inner_type);
	} else if (encap == RAIL_ENCAP_GUE) {
		/* GUE variant 1: source port = ECMP entropy from the flow (RFC 8086 §3.2); zero UDP
		 * checksum for a tunnel (RFC 6935 / RFC 6936). */
		if (tun + 8 > end)
			return -1;
		*(__be16 *)tun = bpf_htons(0xc000 | (hash & 0x3fff));
		*(__be16 *)(tun + 2) = node->gue_port;
		*(__be16 *)(tun + 4) = bpf_htons(8 + ip_len);
		*(__be16 *)(tun + 6) = 0;
	}
	return 0;
}

#endif /* RAIL_BPF_LIB_LB_ENCAP_H */
