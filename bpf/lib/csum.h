/* Internet checksum helpers (RFC 1071 sums, RFC 1624 incremental updates) for eBPF code. */
#ifndef RAIL_BPF_LIB_CSUM_H
#define RAIL_BPF_LIB_CSUM_H

#include <linux/types.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

/* Fold a 32-bit one's-complement accumulator to 16 bits (two folds always suffice). */
static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit field changing from m to m'.
 * All three values in the same byte order (network order as read from the packet works).
 */
static __always_inline __u16 csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check + (__u16)~old + (__u32) new;

	return ~csum_fold32(sum);
}

/* The same for a 32-bit field (an IPv4 address): two 16-bit halves. */
static __always_inline __u16 csum_replace32(__u16 check, __u32 old, __u32 new)
{
	__u32 sum = (__u16)~check;

	sum += (__u16) ~(old & 0xffff) + (__u16) ~(old >> 16);
	sum += (new & 0xffff) + (new >> 16);
	return ~csum_fold32(sum);
}

/*
 * Header checksum of a 20-byte IPv4 header (no options), computed over the header with the
 * check field taken as zero. The caller guarantees the 20 bytes are in bounds.
 */
static __always_inline __u16 ipv4_csum_20(struct iphdr *iph)
{
	__u16 *words = (__u16 *)iph;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*iph) / 2); i++) {
		if (i != 5) /* the check field itself */
			sum += words[i];
	}
	return ~csum_fold32(sum);
}

#endif /* RAIL_BPF_LIB_CSUM_H */
