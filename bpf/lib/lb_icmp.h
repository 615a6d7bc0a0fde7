/* ICMP the node answers itself: echo replies (§8) and "too big" once encapsulated (§7). */
#ifndef RAIL_BPF_LIB_LB_ICMP_H
#define RAIL_BPF_LIB_LB_ICMP_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "rail_abi.h"
#include "lib/lb_parse.h"
#include "lib/lb_encap.h"

#define LB_REPLY_TTL 64
#define LB_TOO_BIG_QUOTE 128 /* bytes of the offending packet quoted (§7) */

/* RFC 1624 eqn. 3, host-order values: HC' = ~(~HC + ~m + m'), never the 0x0000/0xFFFF slip. */
static __always_inline __u16 lb_csum_update16(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check + (__u32)(__u16)~old + new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* RFC 791 checksum of an IPv4 header of `hl` (20..60) bytes in `h` (check field as zero). */
static __always_inline __u16 lb_ipv4_csum(const __u8 *h, __u32 hl)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 60; i += 2) {
		if (i < hl && i != 10)
			sum += (__u32)h[i] << 8 | h[i + 1];
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * Echo request -> echo reply in place: addresses swapped, TTL 64, IPv4 header checksum
 * recomputed (options kept), type changed with an incremental ICMP checksum update (swapping the
 * addresses leaves the ICMPv6 pseudo-header sum unchanged). Then the Ethernet addresses are
 * swapped and everything before the IP packet (a GRE ingress header) and after it (padding) goes.
 */
static __noinline int lb_echo_reply(struct xdp_md *ctx, const struct lb_pkt *p)
{
	int v6 = p->family == RAIL_AF_INET6;
	__u8 reply = v6 ? 129 : 0;
	__u16 csum;
	__u8 icmp[4];
	__u8 eth[18];
	__u8 macs[12];
	__u32 eth_len;

	if (v6) {
		__u8 h[40];

		if (bpf_xdp_load_bytes(ctx, p->l3_off, h, 40))
			return -1;
		__builtin_memcpy(h + 8, p->dst, 16);
		__builtin_memcpy(h + 24, p->src, 16);
		h[7] = LB_REPLY_TTL;
		if (bpf_xdp_store_bytes(ctx, p->l3_off, h, 40))
			return -1;
	} else {
		__u8 h[60] = {};
		__u32 hl = p->hdr_len & 0x3c;

		if (hl < 20 || bpf_xdp_load_bytes(ctx, p->l3_off, h, hl))
			return -1;
		__builtin_memcpy(h + 12, &p->dst[0], 4);
		__builtin_memcpy(h + 16, &p->src[0], 4);
		h[8] = LB_REPLY_TTL;
		lb_put16(h + 10, lb_ipv4_csum(h, hl));
		if (bpf_xdp_store_bytes(ctx, p->l3_off, h, hl))
			return -1;
	}
	csum = lb_csum_update16(bpf_ntohs(p->icmp_csum), (__u16)p->icmp_type << 8 | p->icmp_code,
				(__u16)reply << 8 | p->icmp_code);
	icmp[0] = reply;
	icmp[1] = p->icmp_code;
	lb_put16(icmp + 2, csum);
	if (bpf_xdp_store_bytes(ctx, p->l4_off, icmp, 4))
		return -1;

	/* Back where it came from: the input's source MAC is the destination. */
	if (bpf_xdp_load_bytes(ctx, 0, macs, sizeof(macs)))
		return -1;
	eth_len = lb_build_eth(eth, macs + 6, macs, p, v6 ? LB_ETH_P_IPV6 : LB_ETH_P_IP);
	if (lb_reframe(ctx, p->l3_off, eth_len, p->l3_end - p->l3_off))
		return -1;
	return lb_store_eth(ctx, eth, eth_len) ? -1 : 0;
}

/* Folds a 32-bit partial sum (bpf_csum_diff, memory byte order) into a stored checksum. */
static __always_inline __u16 lb_csum_fold_mem(__u64 partial)
{
	__u32 sum = (__u32)partial;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * ICMP "fragmentation needed" (RFC 1191) / ICMPv6 "packet too big" (RFC 8201) from the VIP to
 * the client, advertising `mtu` and quoting the first 128 bytes of the packet (§7). The quote is
 * left where it is in the frame; the new headers go in front of it.
 */
static __noinline int lb_too_big(struct xdp_md *ctx, const struct lb_pkt *p, __u32 mtu)
{
	int v6 = p->family == RAIL_AF_INET6;
	__u8 h[48] = {}; /* IP header (20 / 40) + ICMP header (8) */
	__u8 pseudo[40] = {};
	__u32 hl, eth_len, off;
	__u64 sum;
	__u16 csum;
	void *data, *data_end;
	__u8 eth[18];
	__u8 macs[12];

	/* Config guarantees a too-big packet is longer than the quote (mtu bounds, §7). */
	if (p->l3_end - p->l3_off < LB_TOO_BIG_QUOTE)
		return -1;
	if (v6) {
		__u32 mtu_be = bpf_htonl(mtu);
		__u32 upper_len = bpf_htonl(8 + LB_TOO_BIG_QUOTE);

		h[0] = 0x60;
		lb_put16(h + 4, 8 + LB_TOO_BIG_QUOTE);
		h[6] = LB_PROTO_ICMPV6;
		h[7] = LB_REPLY_TTL;
		__builtin_memcpy(h + 8, p->dst, 16);
		__builtin_memcpy(h + 24, p->src, 16);
		h[40] = 2; /* packet too big */
		__builtin_memcpy(h + 44, &mtu_be, 4);
		hl = 48;
		/* RFC 8200 §8.1 pseudo-header: src, dst, upper-layer length, zeros, next header. */
		__builtin_memcpy(pseudo, p->dst, 16);
		__builtin_memcpy(pseudo + 16, p->src, 16);
		__builtin_memcpy(pseudo + 32, &upper_len, 4);
		pseudo[39] = LB_PROTO_ICMPV6;
	} else {
		h[0] = 0x45;
		lb_put16(h + 2, 20 + 8 + LB_TOO_BIG_QUOTE);
		h[8] = LB_REPLY_TTL;
		h[9] = LB_PROTO_ICMP;
		__builtin_memcpy(h + 12, &p->dst[0], 4);
		__builtin_memcpy(h + 16, &p->src[0], 4);
		lb_put16(h + 10, lb_ipv4_csum20(h));
		h[20] = 3;			/* destination unreachable */
		h[21] = 4;			/* fragmentation needed */
		lb_put16(h + 26, mtu & 0xffff); /* next-hop MTU in the low 16 bits */
		hl = 28;
	}
	/* Back where it came from: the input's source MAC is the destination. */
	if (bpf_xdp_load_bytes(ctx, 0, macs, sizeof(macs)))
		return -1;
	eth_len = lb_build_eth(eth, macs + 6, macs, p, v6 ? LB_ETH_P_IPV6 : LB_ETH_P_IP);
	if (lb_reframe(ctx, p->l3_off, eth_len + hl, LB_TOO_BIG_QUOTE))
		return -1;

	/* ICMP checksum: header + quote (+ the IPv6 pseudo-header), in memory byte order. */
	off = (eth_len + hl) & 0xff;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + off + LB_TOO_BIG_QUOTE > data_end)
		return -1;
	sum = bpf_csum_diff(NULL, 0, data + off, LB_TOO_BIG_QUOTE, 0);
	if (v6) {
		sum = bpf_csum_diff(NULL, 0, (void *)(h + 40), 8, (__u32)sum);
		sum = bpf_csum_diff(NULL, 0, (void *)pseudo, 40, (__u32)sum);
	} else {
		sum = bpf_csum_diff(NULL, 0, (void *)(h + 20), 8, (__u32)sum);
	}
	csum = lb_csum_fold_mem(sum);
	if (v6)
		__builtin_memcpy(h + 42, &csum, 2);
	else
		__builtin_memcpy(h + 22, &csum, 2);

	if (lb_store_eth(ctx, eth, eth_len))
		return -1;
	return bpf_xdp_store_bytes(ctx, eth_len, h, hl) ? -1 : 0;
}

#endif /* RAIL_BPF_LIB_LB_ICMP_H */
