/*
 * Structs and enums shared by bpf/decap.bpf.c (the backend-side decapsulator) and its C++
 * loader (dataplane/decap_program.h). Addresses in network byte order, as on the wire.
 */
#ifndef RAIL_ABI_DECAP_H
#define RAIL_ABI_DECAP_H

#include "rail_abi.h"

/* A packet and byte count; per-CPU in the maps, summed over CPUs by user space. */
struct rail_decap_counter {
	__u64 packets;
	__u64 bytes; /* frame length as received */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_decap_counter) == 16, "rail_decap_counter layout");

/*
 * decap_addresses: HASH, struct rail_addr_key (abi/rail_abi.h) -> __u8 (1): the local tunnel
 * endpoint addresses; only presence matters.
 */
#define RAIL_DECAP_MAX_ADDRESSES 64

/* Index of the decap_stats per-CPU array. Append only. */
enum rail_decap_stat {
	RAIL_DECAP_STAT_PASS = 0,  /* not a tunnel packet for us: handed on untouched */
	RAIL_DECAP_STAT_GRE = 1,   /* GRE (RFC 2784/2890) stripped, either outer family */
	RAIL_DECAP_STAT_IPIP = 2,  /* IP protocol 4: IPv4 inner (RFC 2003 / RFC 2473) */
	RAIL_DECAP_STAT_IP6 = 3,   /* IP protocol 41: IPv6 inner (RFC 2473 / RFC 4213 6in4) */
	RAIL_DECAP_STAT_GUE = 4,   /* GUE variant 1: IP directly in UDP to the GUE port */
	RAIL_DECAP_STAT_MAX
};

/* The decap_drops per-CPU array is indexed by enum rail_drop_reason (abi/rail_abi.h). */

/* The default GUE destination port (same as the balancer's gue_port default). */
#define RAIL_DECAP_DEFAULT_GUE_PORT 6080

#endif /* RAIL_ABI_DECAP_H */
