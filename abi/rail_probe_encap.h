/*
 * Structs shared by bpf/probe_encap.bpf.c (tc egress on the Rail node: via-VIP health probes
 * encapsulated like balanced traffic) and its loader (dataplane/probe_encap.h). Addresses in
 * network byte order. See docs/health-checks.md "Via-VIP checks".
 */
#ifndef RAIL_ABI_PROBE_ENCAP_H
#define RAIL_ABI_PROBE_ENCAP_H

#include "rail_types.h"

/*
 * A probe socket carries SO_MARK = RAIL_PROBE_MARK | probe id (16 bits). Other marks, and
 * unmarked packets, are never touched. The prefix is "RP" so it is unlikely to collide with
 * marks an operator's own policy routing uses.
 */
#define RAIL_PROBE_MARK 0x52500000u
#define RAIL_PROBE_MARK_MASK 0xffff0000u
#define RAIL_PROBE_MAX_TARGETS 4096

/* probe_targets: HASH, __u32 mark -> where to send that probe (GRE over IPv4). */
struct rail_probe_target {
	__u32 backend4;	 /* outer destination: the backend (network byte order) */
	__u32 source4;	 /* outer source: node.outer_source_v4 (network byte order) */
	__u8 dst_mac[6]; /* next hop towards the backend (as the balancer uses) */
	__u8 src_mac[6]; /* the node interface's MAC */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_probe_target) == 20, "rail_probe_target layout");

struct rail_probe_counter {
	__u64 packets;
	__u64 bytes; /* frame length before encapsulation */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_probe_counter) == 16, "rail_probe_counter layout");

/* Index of the probe_encap_stats per-CPU array. Append only. */
enum rail_probe_stat {
	RAIL_PROBE_STAT_ENCAPSULATED = 0, /* a marked probe, GRE-encapsulated to its backend */
	RAIL_PROBE_STAT_NO_TARGET = 1, /* marked, no target (or not IPv4): dropped, never plain */
	RAIL_PROBE_STAT_ERRORS = 2,    /* the kernel refused to make room / store: dropped */
	RAIL_PROBE_STAT_MAX
};

#endif /* RAIL_ABI_PROBE_ENCAP_H */
