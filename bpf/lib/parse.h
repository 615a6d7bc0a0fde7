/* Bounds-checked header parsers for XDP and tc programs: a cursor walks the frame. */
#ifndef RAIL_BPF_LIB_PARSE_H
#define RAIL_BPF_LIB_PARSE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/*
 * A position in the frame and the end of the data the program may read. Every parse_*()
 * checks `pos + sizeof(header) <= end` before touching a byte (the verifier insists), and
 * only advances `pos` on success, so on failure the cursor still points at the header that
 * did not parse.
 *
 * Return convention of parse_*(): >= 0 is the next protocol (an ethertype in host order for
 * L2/GRE, an IPPROTO_* number for L3), and a negative value is a failure:
 */
#define RAIL_PARSE_TRUNCATED (-1) /* fewer bytes than the header needs */
#define RAIL_PARSE_INVALID (-2)	  /* the bytes are there but are not a valid header */

struct cursor {
	void *pos;
	void *end;
};

static __always_inline void cursor_init(struct cursor *c, void *data, void *data_end)
{
	c->pos = data;
	c->end = data_end;
}

/* 802.1Q / 802.1ad tag as it sits between the MAC addresses and the real ethertype. */
struct rail_vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

/*
 * Ethernet header plus at most one VLAN tag (0x8100 or 0x88a8). Returns the ethertype of
 * what follows (host order). *eth points at the Ethernet header; *l2_len is 14 or 18.
 */
static __always_inline int parse_ethhdr(struct cursor *c, struct ethhdr **eth, __u32 *l2_len)
{
	struct ethhdr *e = c->pos;
	struct rail_vlan_hdr *vlan;
	__u16 proto;

	if ((void *)(e + 1) > c->end)
		return RAIL_PARSE_TRUNCATED;
	proto = bpf_ntohs(e->h_proto);
	*l2_len = sizeof(*e);
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		vlan = (void *)(e + 1);
		if ((void *)(vlan + 1) > c->end)
			return RAIL_PARSE_TRUNCATED;
		proto = bpf_ntohs(vlan->encapsulated_proto);
		*l2_len += sizeof(*vlan);
	}
	*eth = e;
	c->pos = (void *)e + *l2_len;
	return proto;
}

/*
 * IPv4 header with options. Checks version 4, IHL >= 5 and IHL*4 <= total length. Returns
 * the IPPROTO_* of the payload. *hdr_len is IHL*4 (20..60).
 * The caller decides what a total length larger than the frame means (see packet-path.md).
 */
static __always_inline int parse_iphdr(struct cursor *c, struct iphdr **iph, __u32 *hdr_len)
{
	struct iphdr *h = c->pos;
	__u32 len;

	if ((void *)(h + 1) > c->end)
		return RAIL_PARSE_TRUNCATED;
	if (h->version != 4 || h->ihl < 5)
		return RAIL_PARSE_INVALID;
	len = h->ihl * 4;
	if (len > bpf_ntohs(h->tot_len))
		return RAIL_PARSE_INVALID;
	if (c->pos + len > c->end)
		return RAIL_PARSE_TRUNCATED;
	*iph = h;
	*hdr_len = len;
	c->pos += len;
	return h->protocol;
}

/* Fixed IPv6 header (extension headers are the caller's business). Returns nexthdr. */
static __always_inline int parse_ip6hdr(struct cursor *c, struct ipv6hdr **ip6h)
{
	struct ipv6hdr *h = c->pos;

	if ((void *)(h + 1) > c->end)
		return RAIL_PARSE_TRUNCATED;
	if (h->version != 6)
		return RAIL_PARSE_INVALID;
	*ip6h = h;
	c->pos = h + 1;
	return h->nexthdr;
}

/* UDP header. Returns the destination port in host order (0..65535). */
static __always_inline int parse_udphdr(struct cursor *c, struct udphdr **udph)
{
	struct udphdr *h = c->pos;

	if ((void *)(h + 1) > c->end)
		return RAIL_PARSE_TRUNCATED;
	*udph = h;
	c->pos = h + 1;
	return bpf_ntohs(h->dest);
}

/* GRE base header (RFC 2784) and the flag bits of RFC 1701/2890 in host order. */
struct rail_grehdr {
	__be16 flags_version;
	__be16 protocol;
};

#define RAIL_GRE_CSUM 0x8000	/* checksum + reserved1 present (RFC 2784) */
#define RAIL_GRE_ROUTING 0x4000 /* RFC 1701 source routing: deprecated, never accepted */
#define RAIL_GRE_KEY 0x2000	/* 4-byte key present (RFC 2890) */
#define RAIL_GRE_SEQ 0x1000	/* 4-byte sequence number present (RFC 2890) */
#define RAIL_GRE_VERSION 0x0007
/* Bits that must be zero in version 0: routing, strict source route, recursion, flags. */
#define RAIL_GRE_RESERVED0 0x4ff8

/*
 * GRE version 0 (RFC 2784 + RFC 2890 key and sequence). Skips the optional checksum (not
 * verified: the inner packet carries its own), key and sequence fields. Returns the
 * protocol type (an ethertype, host order); RAIL_PARSE_INVALID for a version other than 0 or
 * the routing/reserved bits set; RAIL_PARSE_TRUNCATED if the header or an optional field is
 * cut short. *hdr_len is 4..16.
 */
static __always_inline int parse_grehdr(struct cursor *c, __u32 *hdr_len)
{
	struct rail_grehdr *h = c->pos;
	__u16 flags;
	__u32 len = sizeof(*h);

	if ((void *)(h + 1) > c->end)
		return RAIL_PARSE_TRUNCATED;
	flags = bpf_ntohs(h->flags_version);
	if ((flags & RAIL_GRE_VERSION) != 0 || (flags & RAIL_GRE_RESERVED0) != 0)
		return RAIL_PARSE_INVALID;
	if (flags & RAIL_GRE_CSUM)
		len += 4;
	if (flags & RAIL_GRE_KEY)
		len += 4;
	if (flags & RAIL_GRE_SEQ)
		len += 4;
	if (c->pos + len > c->end)
		return RAIL_PARSE_TRUNCATED;
	*hdr_len = len;
	c->pos += len;
	return bpf_ntohs(h->protocol);
}

#endif /* RAIL_BPF_LIB_PARSE_H */
