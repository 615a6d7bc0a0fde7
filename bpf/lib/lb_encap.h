/* Output frames towards a backend: GRE, IPIP/IP6IP6, GUE, L2 DSR (docs/packet-path.md §6). */
#ifndef RAIL_BPF_LIB_LB_ENCAP_H
#define RAIL_BPF_LIB_LB_ENCAP_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "rail_abi.h"
#include "lib/lb_parse.h"
#include "lib/lb_ctx.h"

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

/* GRE (4 bytes) or GUE's UDP header (8 bytes) after the outer IP header, as a value. */
static __always_inline __u64 lb_tunnel_header(__u8 encap, int inner_v6, __u32 ip_len, __u32 hash,
					      __be16 gue_port)
{
	__u8 t[8] = {};
	__u64 v;

	if (encap == RAIL_ENCAP_GRE) {
		/* RFC 2784: no C/K/S, version 0; protocol = the inner ethertype. */
		lb_put16(t + 2, inner_v6 ? LB_ETH_P_IPV6 : LB_ETH_P_IP);
	} else if (encap == RAIL_ENCAP_GUE) {
		/* GUE variant 1: source port = ECMP entropy from the flow (RFC 8086 §3.2); zero UDP
		 * checksum for a tunnel (RFC 6935 / RFC 6936). */
		lb_put16(t, 0xc000 | (hash & 0x3fff));
		__builtin_memcpy(t + 2, &gue_port, 2);
		lb_put16(t + 4, 8 + ip_len);
	}
	__builtin_memcpy(&v, t, 8);
	return v;
}

static __always_inline __u8 lb_outer_proto(__u8 encap, int inner_v6)
{
	if (encap == RAIL_ENCAP_GRE)
		return LB_PROTO_GRE;
	if (encap == RAIL_ENCAP_GUE)
		return LB_PROTO_UDP;
	return inner_v6 ? LB_PROTO_IPV6 : LB_PROTO_IPIP;
}

/*
 * Encapsulate the IP packet being balanced towards `be` (§6). The inner bytes are not copied:
 * the head moves and only the new headers are written.
 */
static __noinline int lb_encap(struct xdp_md *ctx, const struct lb_ctx *c,
			       const struct rail_backend *be)
{
	const struct lb_pkt *p = &c->p;
	const struct rail_node_config *node = &c->node;
	__u8 encap = c->encap;
	__u32 hash = c->hash;
	__u32 ip_len = p->l3_end - p->l3_off;
	int inner_v6 = p->family == RAIL_AF_INET6;
	int outer_v6 = be->family == RAIL_AF_INET6;
	__u32 overhead = lb_overhead(encap, be->family);
	__u16 ethertype;
	__u32 eth_len;
	__u64 tun;
	__u8 outer[48] = {};
	__u8 eth[18];

	if (encap == RAIL_ENCAP_L2)
		ethertype = inner_v6 ? LB_ETH_P_IPV6 : LB_ETH_P_IP;
	else
		ethertype = outer_v6 ? LB_ETH_P_IPV6 : LB_ETH_P_IP;
	eth_len = lb_build_eth(eth, be->mac, node->mac, p, ethertype);

	if (encap != RAIL_ENCAP_L2 && outer_v6) {
		/* RFC 6438: the flow label carries the flow hash, for ECMP on the way. */
		__u32 w0 = 6u << 28 | (__u32)p->tos << 20 | (hash & 0xfffff);

		w0 = bpf_htonl(w0);
		__builtin_memcpy(outer, &w0, 4);
		lb_put16(outer + 4, overhead - 40 + ip_len);
		outer[6] = lb_outer_proto(encap, inner_v6);
		outer[7] = LB_OUTER_TTL;
		__builtin_memcpy(outer + 8, node->outer_src_v6, 16);
		__builtin_memcpy(outer + 24, be->addr, 16);
		tun = lb_tunnel_header(encap, inner_v6, ip_len, hash, node->gue_port);
		__builtin_memcpy(outer + 40, &tun, 8);
	} else if (encap != RAIL_ENCAP_L2) {
		outer[0] = 0x45;
		outer[1] = p->tos;
		lb_put16(outer + 2, overhead + ip_len);
		outer[6] = 0x40; /* DF: Rail never fragments, PMTUD answers instead (§7) */
		outer[8] = LB_OUTER_TTL;
		outer[9] = lb_outer_proto(encap, inner_v6);
		__builtin_memcpy(outer + 12, &node->outer_src_v4, 4);
		__builtin_memcpy(outer + 16, &be->addr[0], 4);
		lb_put16(outer + 10, lb_ipv4_csum20(outer));
		tun = lb_tunnel_header(encap, inner_v6, ip_len, hash, node->gue_port);
		__builtin_memcpy(outer + 20, &tun, 8);
	}

	if (lb_reframe(ctx, p->l3_off, eth_len + overhead, ip_len))
		return -1;
	if (lb_store_eth(ctx, eth, eth_len))
		return -1;
	if (overhead == 0)
		return 0;
	if (overhead > sizeof(outer))
		return -1;
	return bpf_xdp_store_bytes(ctx, eth_len, outer, overhead) ? -1 : 0;
}

#endif /* RAIL_BPF_LIB_LB_ENCAP_H */
