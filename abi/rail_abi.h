/*
 * The one header of C structs and enums shared by the eBPF programs and the C++ side.
 * Map keys and values are defined here once, with fixed-width fields and asserted sizes, so the
 * kernel and user space can never disagree on a layout. Addresses and ports are kept in network
 * byte order (as on the wire) everywhere in this header.
 */
#ifndef RAIL_ABI_H
#define RAIL_ABI_H

#include "rail_types.h"
#include "rail_hash.h"

/* What the data plane does with a packet. */
enum rail_verdict {
	RAIL_VERDICT_DROP = 0, /* dropped, with a reason counted */
	RAIL_VERDICT_PASS = 1, /* not ours: handed to the host stack untouched */
	RAIL_VERDICT_TX = 2,   /* rewritten and sent back out (to a backend, or an ICMP reply) */
};

/*
 * Why a packet was dropped. Every reason has a per-CPU counter in every data plane.
 * Append only: the numbers are part of the metrics and of the golden tests.
 */
enum rail_drop_reason {
	RAIL_DROP_NONE = 0,
	RAIL_DROP_MALFORMED_L2 = 1,     /* truncated Ethernet / 802.1Q header */
	RAIL_DROP_MALFORMED_L3 = 2,     /* bad IPv4/IPv6 header (length, version, IHL, ext hdrs) */
	RAIL_DROP_MALFORMED_L4 = 3,     /* truncated TCP/UDP/ICMP header for a VIP */
	RAIL_DROP_MALFORMED_ENCAP = 4,  /* ingress GRE/GUE to the node that does not parse */
	RAIL_DROP_UNSUPPORTED_ENCAP = 5,/* GRE version/flags or inner protocol Rail does not take */
	RAIL_DROP_NO_SERVICE = 6,       /* VIP address known, but no service on this port/protocol */
	RAIL_DROP_NO_BACKEND = 7,       /* the VIP has no usable backend (all down or drained) */
	RAIL_DROP_TOO_BIG_NO_DF = 8,    /* too big once encapsulated, and DF clear: no ICMP allowed */
	RAIL_DROP_ICMP_UNMATCHED = 9,   /* ICMP error to a VIP whose quoted packet we cannot place */
	RAIL_DROP_NO_NEXTHOP = 10,      /* the backend's next-hop MAC is not known yet */
	RAIL_DROP_ADJUST_FAILED = 11,   /* XDP only: the kernel refused to grow/shrink the frame */
	RAIL_DROP_ICMP_ECHO = 12,       /* ICMP echo to a VIP while echo replies are off */
	RAIL_DROP_REASON_MAX
};

/* How a VIP's packets reach its backends. */
enum rail_encap {
	RAIL_ENCAP_GRE = 0,  /* RFC 2784 GRE, 4-byte header, no key/csum/seq (the default) */
	RAIL_ENCAP_IPIP = 1, /* IPv4-in-IPv4 (RFC 2003) or IPv6-in-IPv6 (RFC 2473), by family */
	RAIL_ENCAP_GUE = 2,  /* GUE variant 1 (draft-ietf-intarea-gue): IP directly in UDP */
	RAIL_ENCAP_L2 = 3,   /* L2 direct server return: rewrite the destination MAC only */
	RAIL_ENCAP_MAX
};

/* Address families as stored in the shared structs. */
enum rail_family {
	RAIL_AF_INET = 4,
	RAIL_AF_INET6 = 6,
};

/*
 * A flow as the balancer sees it: client -> VIP. IPv4 addresses use addr[0] only, the other
 * words are zero. Ports are zero for protocols without ports and for fragment 3-tuples.
 */
struct rail_flow_key {
	__u32 src[4];  /* network byte order */
	__u32 dst[4];  /* network byte order */
	__u16 sport;   /* network byte order */
	__u16 dport;   /* network byte order */
	__u8 proto;    /* IPPROTO_* */
	__u8 family;   /* enum rail_family */
	__u16 pad;     /* zero */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_flow_key) == 40, "rail_flow_key layout");

#endif /* RAIL_ABI_H */
