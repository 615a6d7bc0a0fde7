/*
 * Structs shared by bpf/router_gre_encap.bpf.c (the testbed router's GRE encapsulator, a tc
 * egress classifier) and its C++ loader (tools/router_encap/router_gre_encap.h). Addresses in
 * network byte order, as on the wire. See docs/router-encap.md.
 */
#ifndef RAIL_ABI_ROUTER_ENCAP_H
#define RAIL_ABI_ROUTER_ENCAP_H

#include "rail_types.h"

/* router_encap_nodes: HASH, Ethernet address of a Rail node -> its GRE ingress addresses. */
#define RAIL_ROUTER_ENCAP_MAX_NODES 256
struct rail_router_node_key {
	__u8 mac[6];
	__u8 pad[2]; /* zero */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_router_node_key) == 8, "rail_router_node_key layout");

#define RAIL_ROUTER_NODE_HAS_V4 0x1 /* addr4 is set: IPv4 inner packets are encapsulated */
#define RAIL_ROUTER_NODE_HAS_V6 0x2 /* addr6 is set: IPv6 inner packets are encapsulated */
struct rail_router_node {
	__u32 addr4;	/* network byte order */
	__u32 addr6[4]; /* network byte order */
	__u32 flags;	/* RAIL_ROUTER_NODE_HAS_* */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_router_node) == 24, "rail_router_node layout");

/* router_encap_vips4 / router_encap_vips6: LPM_TRIE, VIP prefix -> __u8 (1). */
#define RAIL_ROUTER_ENCAP_MAX_PREFIXES 1024
struct rail_router_vip4_key {
	__u32 prefixlen; /* 0..32 (host order, as the LPM trie wants) */
	__u32 addr;	 /* network byte order */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_router_vip4_key) == 8, "rail_router_vip4_key layout");
struct rail_router_vip6_key {
	__u32 prefixlen; /* 0..128 */
	__u32 addr[4];	 /* network byte order */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_router_vip6_key) == 20, "rail_router_vip6_key layout");

/* A packet and byte count; per-CPU in the map, summed over CPUs by user space. */
struct rail_router_encap_counter {
	__u64 packets;
	__u64 bytes; /* frame length before encapsulation */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_router_encap_counter) == 16,
		   "rail_router_encap_counter layout");

/* Index of the router_encap_stats per-CPU array. Append only. */
enum rail_router_encap_stat {
	RAIL_ROUTER_ENCAP_STAT_ENCAPSULATED = 0, /* GRE-encapsulated towards a Rail node */
	RAIL_ROUTER_ENCAP_STAT_PASSED = 1,	 /* not for a node, not a VIP, not IP: untouched */
	RAIL_ROUTER_ENCAP_STAT_ERRORS = 2,  /* should have been encapsulated, the kernel refused
					     * (adjust_room/store failed): sent on untouched */
	RAIL_ROUTER_ENCAP_STAT_TOO_BIG = 3, /* would exceed the interface MTU once encapsulated:
					     * sent on plain (Rail balances plain packets alike) */
	RAIL_ROUTER_ENCAP_STAT_MAX
};

/* Outer header overhead: IPv4 20 + GRE 4, IPv6 40 + GRE 4. */
#define RAIL_ROUTER_ENCAP_OVERHEAD_V4 24
#define RAIL_ROUTER_ENCAP_OVERHEAD_V6 44

#endif /* RAIL_ABI_ROUTER_ENCAP_H */
