/* Balancer parsing: layer by layer as in docs/packet-path.md §2, into one struct lb_pkt. */
#ifndef RAIL_BPF_LIB_LB_PARSE_H
#define RAIL_BPF_LIB_LB_PARSE_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "rail_abi.h"

/*
 * Headers are read in place (direct packet access): a helper call per header cost more than
 * the rest of the pass path together. lb_at() is the one place that turns a parser offset into a
 * pointer the verifier accepts. Every bound is still checked by hand against the datagram end
 * first, as the reference parser does, because the frame may carry Ethernet padding past it.
 * The program is not frags-aware, so data..data_end is the whole frame.
 */

#define LB_ETH_P_IP 0x0800
#define LB_ETH_P_IPV6 0x86DD
#define LB_ETH_P_8021Q 0x8100

#define LB_PROTO_ICMP 1
#define LB_PROTO_IPIP 4
#define LB_PROTO_TCP 6
#define LB_PROTO_UDP 17
#define LB_PROTO_IPV6 41
#define LB_PROTO_GRE 47
#define LB_PROTO_ICMPV6 58

#define LB_TCP_SYN 0x02
#define LB_TCP_ACK 0x10

/* RFC 2784 / RFC 1701 / RFC 2890 flag bits of the first GRE word (host order). */
#define LB_GRE_CSUM 0x8000
#define LB_GRE_ROUTING 0x4000
#define LB_GRE_KEY 0x2000
#define LB_GRE_SEQ 0x1000
#define LB_GRE_VERSION 0x0007

#define LB_MAX_EXT_HEADERS 4 /* packet-path.md §2.5 */

/*
 * Larger than any linear XDP frame (a page): offsets past it cannot be in the frame anyway, and
 * the bound is what lets the verifier accept a packet pointer plus a computed offset.
 */
#define LB_MAX_OFF 0x3fff

/* The frame as parsed so far. Offsets are from the start of the received frame. */
struct lb_pkt {
	__u32 frame_len; /* bytes as received */
	__u32 l2_len;	 /* 14, or 18 with an 802.1Q tag */
	__u32 bytes_end; /* end of the outermost IP datagram (padding starts here) */
	/* The IP packet being balanced (the inner one after GRE ingress). */
	__u32 l3_off;
	__u32 l3_end;
	__u32 hdr_len; /* IPv4 IHL*4, IPv6 40 */
	__u32 l4_off;  /* after the IPv6 extension headers once walked */
	__u32 src[4];  /* network order; IPv4 in [0] */
	__u32 dst[4];
	__u32 frag_id;
	__u16 frag_off; /* in 8-byte units */
	__be16 vlan_tci;
	__u8 has_vlan;
	__u8 family; /* RAIL_AF_INET / RAIL_AF_INET6 */
	__u8 proto;  /* upper-layer protocol once the extension headers are walked */
	__u8 tos;
	__u8 df;
	__u8 mf;
	__u8 has_frag_hdr;
	__u8 ext_count;
	__u8 ext_walked;
	/* L4 */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__be16 sport;
	__be16 dport;
	__be16 icmp_csum;
};

/* Any fragment (§4): IPv4 MF or offset, or an IPv6 fragment header. */
static __always_inline int lb_is_fragment(const struct lb_pkt *p)
{
	return p->mf || p->frag_off || p->has_frag_hdr;
}

static __always_inline __u32 lb_avail(__u32 off, __u32 end)
{
	return off < end ? end - off : 0;
}

/* `len` bytes at frame offset `off`, or NULL if the frame is shorter. */
static __always_inline void *lb_at(struct xdp_md *ctx, __u32 off, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	void *ptr;

	if (off > LB_MAX_OFF)
		return NULL;
	ptr = data + off;
	if (ptr + len > end)
		return NULL;
	return ptr;
}

/* Ethernet + at most one 802.1Q tag. Returns 0 or a drop reason; *ethertype in host order. */
static __always_inline int lb_parse_l2(struct xdp_md *ctx, struct lb_pkt *p, __u16 *ethertype)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u16 type;

	if (data + 14 > end)
		return RAIL_DROP_MALFORMED_L2;
	type = bpf_ntohs(*(__be16 *)(data + 12));
	p->l2_len = 14;
	p->has_vlan = 0;
	if (type == LB_ETH_P_8021Q) {
		if (data + 18 > end)
			return RAIL_DROP_MALFORMED_L2;
		p->has_vlan = 1;
		p->vlan_tci = *(__be16 *)(data + 14);
		type = bpf_ntohs(*(__be16 *)(data + 16));
		p->l2_len = 18;
	}
	*ethertype = type;
	return 0;
}

/*
 * The IP header at `off` of a datagram that must end by `span_end` (§2.2). Fills every L3 field
 * of *p (so it also overwrites an outer header's fields with a GRE-inner one's).
 */
static __always_inline int lb_parse_l3(struct xdp_md *ctx, struct lb_pkt *p, __u32 off,
				       __u32 span_end, __u16 ethertype)
{
	__u32 avail = lb_avail(off, span_end);
	__u32 hl, total;
	__u8 *h;

	p->l3_off = off;
	p->has_frag_hdr = 0;
	p->ext_count = 0;
	if (ethertype == LB_ETH_P_IP) {
		__u16 frag;

		if (avail < 20)
			return RAIL_DROP_MALFORMED_L3;
		h = lb_at(ctx, off, 20);
		if (!h)
			return RAIL_DROP_MALFORMED_L3;
		hl = (h[0] & 0x0f) * 4;
		total = bpf_ntohs(*(__be16 *)(h + 2));
		if ((h[0] >> 4) != 4 || hl < 20 || total < hl || total > avail)
			return RAIL_DROP_MALFORMED_L3;
		p->family = RAIL_AF_INET;
		p->hdr_len = hl;
		p->l3_end = off + total;
		p->tos = h[1];
		p->frag_id = bpf_ntohs(*(__be16 *)(h + 4));
		frag = bpf_ntohs(*(__be16 *)(h + 6));
		p->df = (frag & 0x4000) != 0;
		p->mf = (frag & 0x2000) != 0;
		p->frag_off = frag & 0x1fff;
		p->proto = h[9];
		p->src[0] = *(__u32 *)(h + 12);
		p->dst[0] = *(__u32 *)(h + 16);
		p->src[1] = p->src[2] = p->src[3] = 0;
		p->dst[1] = p->dst[2] = p->dst[3] = 0;
		p->l4_off = off + hl;
		p->ext_walked = 1;
		return 0;
	}
	if (avail < 40)
		return RAIL_DROP_MALFORMED_L3;
	h = lb_at(ctx, off, 40);
	if (!h)
		return RAIL_DROP_MALFORMED_L3;
	total = 40 + bpf_ntohs(*(__be16 *)(h + 4));
	if ((h[0] >> 4) != 6 || total > avail)
		return RAIL_DROP_MALFORMED_L3;
	p->family = RAIL_AF_INET6;
	p->hdr_len = 40;
	p->l3_end = off + total;
	p->tos = (__u8)(h[0] << 4 | h[1] >> 4);
	p->frag_id = 0;
	p->df = 0;
	p->mf = 0;
	p->frag_off = 0;
	p->proto = h[6];
	__builtin_memcpy(p->src, h + 8, 16);
	__builtin_memcpy(p->dst, h + 24, 16);
	p->l4_off = off + 40;
	p->ext_walked = 0;
	return 0;
}

static __always_inline int lb_is_ext_header(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60; /* RFC 8200 §4 */
}

/*
 * IPv6 extension headers (§2.5): hop-by-hop, routing, fragment, destination options, at most
 * four, inside the datagram. Stops after a fragment header with a non-zero offset: what follows
 * is mid-datagram data. No-op for IPv4 or when already walked.
 */
static __always_inline int lb_walk_ext(struct xdp_md *ctx, struct lb_pkt *p)
{
	__u32 pos = p->l4_off, end = p->l3_end;
	__u8 next = p->proto, count = 0;
	__u8 *h;

	if (p->ext_walked)
		return 0;
	for (int i = 0; i <= LB_MAX_EXT_HEADERS; i++) {
		if (!lb_is_ext_header(next))
			break;
		if (i == LB_MAX_EXT_HEADERS)
			return RAIL_DROP_MALFORMED_L3;
		count++;
		/* Every one of these headers is at least 8 bytes (RFC 8200 §4.3-4.6). */
		if (lb_avail(pos, end) < 8)
			return RAIL_DROP_MALFORMED_L3;
		h = lb_at(ctx, pos, 8);
		if (!h)
			return RAIL_DROP_MALFORMED_L3;
		if (next == 44) {
			__u16 off_m = bpf_ntohs(*(__be16 *)(h + 2));

			p->has_frag_hdr = 1;
			p->frag_off = off_m >> 3;
			p->mf = off_m & 1;
			p->frag_id = bpf_ntohl(*(__be32 *)(h + 4));
			next = h[0];
			pos += 8;
			if (p->frag_off)
				break;
		} else {
			__u32 len = ((__u32)h[1] + 1) * 8;

			if (lb_avail(pos, end) < len)
				return RAIL_DROP_MALFORMED_L3;
			next = h[0];
			pos += len;
		}
	}
	p->proto = next;
	p->l4_off = pos;
	p->ext_count = count;
	p->ext_walked = 1;
	return 0;
}

/* TCP (20 bytes) / UDP (8) / ICMP (8) fixed header inside the datagram (§2.6). */
static __always_inline int lb_parse_l4(struct xdp_md *ctx, struct lb_pkt *p)
{
	__u32 avail = lb_avail(p->l4_off, p->l3_end);
	__u8 *h;

	if (p->proto == LB_PROTO_TCP) {
		if (avail < 20)
			return RAIL_DROP_MALFORMED_L4;
		h = lb_at(ctx, p->l4_off, 14);
		if (!h)
			return RAIL_DROP_MALFORMED_L4;
		p->tcp_flags = h[13];
	} else if (p->proto == LB_PROTO_UDP || p->proto == LB_PROTO_ICMP ||
		   p->proto == LB_PROTO_ICMPV6) {
		if (avail < 8)
			return RAIL_DROP_MALFORMED_L4;
		h = lb_at(ctx, p->l4_off, 8);
		if (!h)
			return RAIL_DROP_MALFORMED_L4;
		p->icmp_type = h[0];
		p->icmp_code = h[1];
		p->icmp_csum = *(__be16 *)(h + 2);
	} else {
		return 0;
	}
	p->sport = *(__be16 *)h;
	p->dport = *(__be16 *)(h + 2);
	return 0;
}

/*
 * GRE from the router (§2.3, RFC 2784/2890): version 0 without the routing bit; checksum, key
 * and sequence skipped. On success *inner_off is the carried packet, *ethertype its type.
 */
static __always_inline int lb_parse_gre(struct xdp_md *ctx, const struct lb_pkt *p,
					__u32 *inner_off, __u16 *ethertype)
{
	__u32 pos = p->l4_off, end = p->l3_end;
	__u16 flags, proto;
	__u8 *h;

	if (lb_avail(pos, end) < 4)
		return RAIL_DROP_MALFORMED_ENCAP;
	h = lb_at(ctx, pos, 4);
	if (!h)
		return RAIL_DROP_MALFORMED_ENCAP;
	flags = bpf_ntohs(*(__be16 *)h);
	proto = bpf_ntohs(*(__be16 *)(h + 2));
	if ((flags & LB_GRE_VERSION) || (flags & LB_GRE_ROUTING))
		return RAIL_DROP_UNSUPPORTED_ENCAP;
	pos += 4;
	if (flags & LB_GRE_CSUM) { /* checksum + reserved1 */
		if (lb_avail(pos, end) < 4)
			return RAIL_DROP_MALFORMED_ENCAP;
		pos += 4;
	}
	if (flags & LB_GRE_KEY) {
		if (lb_avail(pos, end) < 4)
			return RAIL_DROP_MALFORMED_ENCAP;
		pos += 4;
	}
	if (flags & LB_GRE_SEQ) {
		if (lb_avail(pos, end) < 4)
			return RAIL_DROP_MALFORMED_ENCAP;
		pos += 4;
	}
	if (proto != LB_ETH_P_IP && proto != LB_ETH_P_IPV6)
		return RAIL_DROP_UNSUPPORTED_ENCAP;
	*inner_off = pos;
	*ethertype = proto;
	return 0;
}

/* The packet an ICMP error quotes (RFC 792 / RFC 4443 §3): IP header + the first 8 L4 bytes. */
struct lb_quote {
	__u32 src[4];
	__u32 dst[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
};

/*
 * The quote starts 8 bytes into the ICMP header and may run to the end of the OUTERMOST
 * datagram (bytes_end), as in the reference. Its own length field is not checked (quotes are
 * usually cut). Returns 0 or RAIL_DROP_ICMP_UNMATCHED.
 */
static __always_inline int lb_parse_quote(struct xdp_md *ctx, const struct lb_pkt *p,
					  struct lb_quote *q)
{
	__u32 off = p->l4_off + 8;
	__u32 avail = lb_avail(off, p->bytes_end);
	__u32 hl;
	__u8 h[40];
	__u8 ports[4];

	if (p->family == RAIL_AF_INET) {
		if (avail < 20 || bpf_xdp_load_bytes(ctx, off, h, 20))
			return RAIL_DROP_ICMP_UNMATCHED;
		hl = (h[0] & 0x0f) * 4;
		if ((h[0] >> 4) != 4 || hl < 20)
			return RAIL_DROP_ICMP_UNMATCHED;
		q->proto = h[9];
		__builtin_memcpy(&q->src[0], h + 12, 4);
		__builtin_memcpy(&q->dst[0], h + 16, 4);
		q->src[1] = q->src[2] = q->src[3] = 0;
		q->dst[1] = q->dst[2] = q->dst[3] = 0;
	} else {
		if (avail < 40 || bpf_xdp_load_bytes(ctx, off, h, 40))
			return RAIL_DROP_ICMP_UNMATCHED;
		if ((h[0] >> 4) != 6)
			return RAIL_DROP_ICMP_UNMATCHED;
		hl = 40;
		q->proto = h[6];
		__builtin_memcpy(q->src, h + 8, 16);
		__builtin_memcpy(q->dst, h + 24, 16);
	}
	if (avail < hl + 8 || bpf_xdp_load_bytes(ctx, off + hl, ports, 4))
		return RAIL_DROP_ICMP_UNMATCHED;
	__builtin_memcpy(&q->sport, ports, 2);
	__builtin_memcpy(&q->dport, ports + 2, 2);
	return 0;
}

#endif /* RAIL_BPF_LIB_LB_PARSE_H */
