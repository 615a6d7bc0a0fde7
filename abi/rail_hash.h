/*
 * Rail's flow hash: ONE definition, compiled both into the eBPF programs and into the C++ core,
 * so that every data plane and every node picks the same Maglev entry for the same flow.
 *
 * Algorithm: Bob Jenkins' lookup3 "hashword" (public domain, 2006) over 32-bit words, with the
 * seed and the IP protocol folded into the initial value. Chosen because it is a few dozen ALU
 * instructions for a 5-tuple (well inside the XDP per-packet budget), has no tables and no
 * loops the verifier must unroll beyond a constant, and mixes well (see the spread tests).
 *
 * Word layout (the specification; test vectors in tests/unit/flow_hash_test.cc pin it):
 *   - addresses are taken as big-endian 32-bit words as they appear on the wire
 *     (198.18.0.1 -> 0xC6120001; an IPv6 address is four such words);
 *   - ports form one word: (source port << 16) | destination port, host-order port values;
 *   - IPv4: k = {src, dst, ports},               length 3;
 *   - IPv6: k = {src0..src3, dst0..dst3, ports}, length 9;
 *   - initval = seed ^ protocol;
 *   - fields a VIP does not hash on (see RAIL_HASH_*) are zero in k / initval.
 */
#ifndef RAIL_ABI_HASH_H
#define RAIL_ABI_HASH_H

#include "rail_types.h"

#define RAIL_ROT32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

#define RAIL_LOOKUP3_MIX(a, b, c)                      \
	do {                                           \
		a -= c; a ^= RAIL_ROT32(c, 4); c += b;  \
		b -= a; b ^= RAIL_ROT32(a, 6); a += c;  \
		c -= b; c ^= RAIL_ROT32(b, 8); b += a;  \
		a -= c; a ^= RAIL_ROT32(c, 16); c += b; \
		b -= a; b ^= RAIL_ROT32(a, 19); a += c; \
		c -= b; c ^= RAIL_ROT32(b, 4); b += a;  \
	} while (0)

#define RAIL_LOOKUP3_FINAL(a, b, c)                 \
	do {                                        \
		c ^= b; c -= RAIL_ROT32(b, 14);     \
		a ^= c; a -= RAIL_ROT32(c, 11);     \
		b ^= a; b -= RAIL_ROT32(a, 25);     \
		c ^= b; c -= RAIL_ROT32(b, 16);     \
		a ^= c; a -= RAIL_ROT32(c, 4);      \
		b ^= a; b -= RAIL_ROT32(a, 14);     \
		c ^= b; c -= RAIL_ROT32(b, 24);     \
	} while (0)

/* lookup3 hashword() for exactly 3 words. */
static inline __u32 rail_hash_3words(__u32 k0, __u32 k1, __u32 k2, __u32 initval)
{
	__u32 a, b, c;

	a = b = c = 0xdeadbeef + (3u << 2) + initval;
	c += k2;
	b += k1;
	a += k0;
	RAIL_LOOKUP3_FINAL(a, b, c);
	return c;
}

/* lookup3 hashword() for exactly 9 words. */
static inline __u32 rail_hash_9words(const __u32 k[9], __u32 initval)
{
	__u32 a, b, c;

	a = b = c = 0xdeadbeef + (9u << 2) + initval;
	a += k[0]; b += k[1]; c += k[2];
	RAIL_LOOKUP3_MIX(a, b, c);
	a += k[3]; b += k[4]; c += k[5];
	RAIL_LOOKUP3_MIX(a, b, c);
	c += k[8]; b += k[7]; a += k[6];
	RAIL_LOOKUP3_FINAL(a, b, c);
	return c;
}

/* Which header fields a VIP's flow hash covers (rail_vip.hash_fields). */
enum rail_hash_field {
	RAIL_HASH_SRC_ADDR = 1 << 0,
	RAIL_HASH_DST_ADDR = 1 << 1,
	RAIL_HASH_SRC_PORT = 1 << 2,
	RAIL_HASH_DST_PORT = 1 << 3,
	RAIL_HASH_PROTO = 1 << 4,
	/* The default: the classic 5-tuple. */
	RAIL_HASH_5TUPLE = 0x1f,
	/* Fragments and protocols without ports: (src, dst, protocol). */
	RAIL_HASH_3TUPLE = RAIL_HASH_SRC_ADDR | RAIL_HASH_DST_ADDR | RAIL_HASH_PROTO,
	/* Source-IP affinity: every flow of a client to this VIP lands on one backend. */
	RAIL_HASH_SRC_AFFINITY = RAIL_HASH_SRC_ADDR | RAIL_HASH_DST_ADDR,
};

/*
 * Hash an IPv4 flow. Addresses and ports are in network byte order, exactly as read from the
 * packet; `fields` is a mask of enum rail_hash_field.
 */
static inline __u32 rail_flow_hash_v4(__u32 saddr_be, __u32 daddr_be, __u16 sport_be,
				      __u16 dport_be, __u8 proto, __u32 fields, __u32 seed)
{
	__u32 src = (fields & RAIL_HASH_SRC_ADDR) ? RAIL_NTOHL(saddr_be) : 0;
	__u32 dst = (fields & RAIL_HASH_DST_ADDR) ? RAIL_NTOHL(daddr_be) : 0;
	__u32 sp = (fields & RAIL_HASH_SRC_PORT) ? RAIL_NTOHS(sport_be) : 0;
	__u32 dp = (fields & RAIL_HASH_DST_PORT) ? RAIL_NTOHS(dport_be) : 0;
	__u32 pr = (fields & RAIL_HASH_PROTO) ? proto : 0;

	return rail_hash_3words(src, dst, (sp << 16) | dp, seed ^ pr);
}

/* Hash an IPv6 flow: addresses are 4 words each, in network byte order as in the packet. */
static inline __u32 rail_flow_hash_v6(const __u32 saddr_be[4], const __u32 daddr_be[4],
				      __u16 sport_be, __u16 dport_be, __u8 proto, __u32 fields,
				      __u32 seed)
{
	__u32 k[9];
	__u32 src_on = (fields & RAIL_HASH_SRC_ADDR) ? 0xffffffffu : 0;
	__u32 dst_on = (fields & RAIL_HASH_DST_ADDR) ? 0xffffffffu : 0;
	__u32 sp = (fields & RAIL_HASH_SRC_PORT) ? RAIL_NTOHS(sport_be) : 0;
	__u32 dp = (fields & RAIL_HASH_DST_PORT) ? RAIL_NTOHS(dport_be) : 0;
	__u32 pr = (fields & RAIL_HASH_PROTO) ? proto : 0;

	k[0] = RAIL_NTOHL(saddr_be[0]) & src_on;
	k[1] = RAIL_NTOHL(saddr_be[1]) & src_on;
	k[2] = RAIL_NTOHL(saddr_be[2]) & src_on;
	k[3] = RAIL_NTOHL(saddr_be[3]) & src_on;
	k[4] = RAIL_NTOHL(daddr_be[0]) & dst_on;
	k[5] = RAIL_NTOHL(daddr_be[1]) & dst_on;
	k[6] = RAIL_NTOHL(daddr_be[2]) & dst_on;
	k[7] = RAIL_NTOHL(daddr_be[3]) & dst_on;
	k[8] = (sp << 16) | dp;
	return rail_hash_9words(k, seed ^ pr);
}

/* The default cluster-wide seed ("Rail"); every node of a cluster must use the same seed. */
#define RAIL_DEFAULT_HASH_SEED 0x5261696cu

#endif /* RAIL_ABI_HASH_H */
