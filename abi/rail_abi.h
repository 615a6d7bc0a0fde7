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

/*
 * An IPv4 flow as the connection table rail_conntrack4 keys it: 16 bytes instead of the 40 of
 * rail_flow_key (the table's hash runs over 4 words instead of 10, the compare is shorter and
 * an element is smaller: docs/xdp.md "Connection tables").
 */
struct rail_flow_key4 {
	__u32 src;   /* network byte order */
	__u32 dst;   /* network byte order */
	__u16 sport; /* network byte order */
	__u16 dport; /* network byte order */
	__u8 proto;  /* IPPROTO_* */
	__u8 pad[3]; /* zero */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_flow_key4) == 16, "rail_flow_key4 layout");


/* ---------------------------------------------------------------------------------------------
 * Balancer maps (bpf/balancer.bpf.c <-> dataplane/xdp). One key/value definition per map.
 * ------------------------------------------------------------------------------------------- */

#define RAIL_MAX_SERVICES 1024     /* service ids 0..RAIL_MAX_SERVICES-1 */
#define RAIL_MAX_BACKENDS 65536    /* backend ids 0..RAIL_MAX_BACKENDS-1 */
#define RAIL_MAX_VIP_ADDRS 4096
#define RAIL_NO_BACKEND 0xffffffffu

/*
 * rail_vip_filter: ARRAY of RAIL_VIP_FILTER_WORDS __u64, a bitmap with the bit
 * rail_vip_filter_bit() of every VIP address set. It is the first test of every packet: an
 * ARRAY lookup is inlined by the verifier, a hash lookup is a helper call (15-30 ns on a kernel
 * with return-thunk mitigations). A clear bit means "not a VIP: PASS"; a set bit may be a
 * collision, so whatever does not find a service confirms in rail_vip_addrs.
 */
#define RAIL_VIP_FILTER_LOG2_BITS 20 /* 128 KiB: < 0.4% false positives at 4096 VIPs */
#define RAIL_VIP_FILTER_WORDS (1u << (RAIL_VIP_FILTER_LOG2_BITS - 6))

static inline __u32 rail_vip_filter_bit(const __u32 *addr, __u8 family)
{
    /* Multiplicative mixing of the address words as stored (network order): cheap, and only
     * needs to spread real VIPs over the bitmap, not resist adversaries (a collision costs
     * one hash lookup, never a wrong verdict). */
    __u32 h = addr[0] * 0x9e3779b1u;

    if (family == RAIL_AF_INET6)
        h ^= addr[1] * 0x85ebca77u ^ addr[2] * 0xc2b2ae3du ^ addr[3] * 0x27d4eb2fu;
    h ^= h >> 16;
    h *= 0x7feb352du;
    return h >> (32 - RAIL_VIP_FILTER_LOG2_BITS);
}

/* rail_vip_addrs: "is this destination a VIP address?" for packets the filter lets through
 * that find no service (the authority; the filter only screens). */
struct rail_addr_key {
	__u32 addr[4]; /* network byte order; IPv4 in addr[0] */
	__u8 family;   /* enum rail_family */
	__u8 pad[3];
};
RAIL_STATIC_ASSERT(sizeof(struct rail_addr_key) == 20, "rail_addr_key layout");

/* rail_services: (VIP, protocol, port or 0 = any) -> service. */
struct rail_service_key {
	__u32 addr[4]; /* network byte order */
	__u16 port;    /* network byte order; 0 = any port */
	__u8 proto;    /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family;   /* enum rail_family */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_service_key) == 20, "rail_service_key layout");

enum rail_service_flags {
	/* This (VIP, proto, port 0) entry exists only to place fragments without state
	 * (docs/packet-path.md §4); it does not match whole packets to other ports. */
	RAIL_SVC_FRAG_FALLBACK_ONLY = 1 << 0,
};

struct rail_service {
	__u32 service_id;  /* index into rail_maglev_tables and rail_service_stats */
	__u32 flags;       /* enum rail_service_flags */
	__u32 hash_fields; /* enum rail_hash_field mask */
	__u8 encap;        /* enum rail_encap */
	__u8 pad[3];
};
RAIL_STATIC_ASSERT(sizeof(struct rail_service) == 16, "rail_service layout");

/*
 * Maglev tables, one per service slot, each an inner ARRAY of __u32: entry 0 holds M (the table
 * size), entries 1..M the backend ids of table positions 0..M-1. A slot has its table in exactly
 * one of two ARRAY_OF_MAPS:
 * - rail_maglev_fast: inner maps of exactly RAIL_MAGLEV_FAST_ENTRIES entries (tables with
 *   M + 1 <= that; the rest unused). All inner maps of one size let the verifier inline the
 *   inner lookups (no BPF_F_INNER_MAP): Maglev costs no helper call at all.
 * - rail_maglev_tables: inner maps of M + 1 entries (BPF_F_INNER_MAP, any M): two lookup calls.
 * User space fills a NEW inner map and swaps the outer slot (then clears the slot in the other
 * outer map), so a packet sees either the whole old table or the whole new one, never a
 * half-written one, and M always matches its table. The program tries the fast map first.
 */
#define RAIL_MAGLEV_FAST_ENTRIES 65538u /* M <= 65537, the default table size */

enum rail_backend_state {
	RAIL_BACKEND_UP = 0,      /* takes new flows */
	RAIL_BACKEND_DRAINED = 1, /* keeps established flows, no new ones */
	RAIL_BACKEND_DOWN = 2,    /* established flows move */
};

/* rail_backends: ARRAY, backend_id -> where to send. */
struct rail_backend {
	__u32 addr[4];    /* network byte order */
	__u8 family;      /* enum rail_family; 0 = unused slot */
	__u8 state;       /* enum rail_backend_state */
	__u8 mac[6];      /* next-hop MAC (the backend's own for L2 DSR); zero = unresolved */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_backend) == 24, "rail_backend layout");

/*
 * rail_service_gen: ARRAY[1] -> __u32, bumped by user space after every apply() that changed
 * what a rail_services lookup can return (a key or a value added, removed or changed). A
 * connection entry whose service_gen equals it names the very service the lookup of its flow
 * would find, so an established packet may skip that lookup (docs/xdp.md "Fast path").
 */

/*
 * The connection tables, one per family (LRU_HASH, BPF_F_NO_COMMON_LRU, same value):
 * - rail_conntrack4: struct rail_flow_key4 -> struct rail_conn (IPv4 flows);
 * - rail_conntrack6: struct rail_flow_key (family RAIL_AF_INET6) -> struct rail_conn.
 * (Builds before the split had one rail_conntrack of struct rail_flow_key for both families;
 * user space moves its entries over at load, docs/xdp.md "Connection tables".)
 */
struct rail_conn {
	__u32 backend_id;
	__u32 service_id;   /* the service the flow's rail_services lookup found */
	__u64 last_seen_ns; /* balancer clock (jiffies in ns, lb_now()) at the last refresh */
	__u32 service_gen;  /* rail_service_gen when service_id was last found by that lookup */
	__u32 pad;          /* zero */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_conn) == 24, "rail_conn layout");

/*
 * rail_flow_cache: ARRAY of (possible CPUs << RAIL_FLOW_CACHE_BITS) struct rail_flow_cache_slot,
 * sized by user space, never pinned (a new program starts with it empty). A direct-mapped cache
 * of IPv4 connection entries in front of rail_conntrack4, one region per CPU: CPU c uses only
 * the slots rail_flow_cache_index(key, seed, c), so a slot is read and written by one CPU, and
 * an ARRAY lookup is inlined by the verifier where a hash lookup is a helper call
 * (docs/xdp.md "Flow cache"). A slot copies a rail_conntrack4 entry, and only one whose backend
 * is the one the current Maglev table picks for the flow: as long as rail_flow_cache_gen does
 * not change, a new pick for the flow (a SYN reusing its 5-tuple, on any CPU) gives that
 * same backend, so the program never has to write a slot when it writes the table. A flow
 * whose entry keeps it elsewhere (drained backend, changed table) gets a negative slot
 * (backend_id RAIL_NO_BACKEND): "look the table up, do not check again". A slot is trusted for
 * fewer than lb_flow_cache_ticks ticks from the entry's last_seen, with the same cache_gen and
 * (positive slots) a backend still usable; while it is, no other flow takes it.
 *
 * rail_flow_cache_gen: ARRAY[1] -> __u32, pinned with the tables (so an old program still
 * attached while a restarted raild rewrites them sees the bumps too), a sequence count: user
 * space makes it odd before the first write of an apply() that a slot depends on (the seed, a
 * Maglev table, a rail_services entry) and even again once every change is visible (also on
 * the way out of a failed apply()). While it is odd the program neither uses nor fills a slot;
 * a slot filled before carries the even value it read, which never comes back.
 */
#define RAIL_FLOW_CACHE_BITS 14      /* 16384 slots (512 KiB) per possible CPU */
#define RAIL_FLOW_CACHE_TICK_SHIFT 20 /* a tick is 2^20 ns (~1.05 ms) of the balancer clock */

struct rail_flow_cache_slot {
	struct rail_flow_key4 key; /* all zero when empty: proto 0 matches no TCP/UDP flow */
	__u32 backend_id;          /* RAIL_NO_BACKEND: negative slot */
	__u32 service_id;
	__u32 cache_gen;           /* rail_flow_cache_gen (even) read before the fill */
	__u32 stamp;               /* entry last_seen >> RAIL_FLOW_CACHE_TICK_SHIFT (wraps) */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_flow_cache_slot) == 32, "rail_flow_cache_slot layout");

/* rail_flow_cache_gen is odd: user space is writing, no slot is used or filled. */
#define RAIL_FLOW_CACHE_WRITING 1u

/* The slot of `key` in CPU `cpu`'s region. Seeded (the node's hash_seed) so that colliding
 * flows cannot be chosen from outside without it; a collision only costs a table lookup. The
 * index is the top bits of the last product, which every input bit reaches. */
static inline __u32 rail_flow_cache_index(const struct rail_flow_key4 *key, __u32 seed,
					  __u32 cpu)
{
	__u32 h = (key->src ^ seed) * 0x9e3779b1u;

	h = (h ^ key->dst) * 0x85ebca77u;
	h = (h ^ ((__u32)key->sport << 16 | key->dport) ^ key->proto) * 0xc2b2ae3du;
	return cpu << RAIL_FLOW_CACHE_BITS | h >> (32 - RAIL_FLOW_CACHE_BITS);
}

/* rail_fragments: LRU_HASH, first fragment's identity -> its service and backend. */
struct rail_frag_key {
	__u32 src[4]; /* network byte order */
	__u32 dst[4]; /* network byte order */
	__u32 id;     /* IPv4 identification (16 bits, zero-extended) or IPv6 fragment id */
	__u8 proto;
	__u8 family;
	__u16 pad;
};
RAIL_STATIC_ASSERT(sizeof(struct rail_frag_key) == 40, "rail_frag_key layout");

struct rail_frag {
	__u32 service_id;
	__u32 backend_id;
};
RAIL_STATIC_ASSERT(sizeof(struct rail_frag) == 8, "rail_frag layout");

/* rail_node: ARRAY with one entry: settings that may change while the program runs. */
struct rail_node_config {
	__u8 mac[6];              /* source MAC of everything the node sends */
	__u16 gue_port;           /* network byte order */
	__u32 outer_src_v4;       /* network byte order; 0 = none */
	__u32 outer_src_v6[4];    /* network byte order; all zero = none */
	__u32 mtu;                /* bytes of outer IP packet */
	__u32 hash_seed;
	__u32 flags;              /* enum rail_node_flags */
};
RAIL_STATIC_ASSERT(sizeof(struct rail_node_config) == 40, "rail_node_config layout");

enum rail_node_flags {
	RAIL_NODE_ICMP_ECHO = 1 << 0, /* answer ICMP echo requests to VIPs */
};

/* rail_ingress_addrs: HASH, struct rail_addr_key -> __u32 (1): GRE to these is balanced. */

/* rail_counters: PERCPU_ARRAY[1] -> struct rail_counter_block (indexed by enum rail_counter). */
enum rail_counter {
	RAIL_CNT_RX = 0,
	RAIL_CNT_PASS = 1,
	RAIL_CNT_TX = 2,
	RAIL_CNT_DROP = 3,
	RAIL_CNT_NEW_FLOWS = 4,
	RAIL_CNT_CONN_HITS = 5,
	RAIL_CNT_ICMP_ECHO_SENT = 6,
	RAIL_CNT_ICMP_TOO_BIG_SENT = 7,
	RAIL_CNT_ICMP_ERR_STEERED = 8,
	RAIL_CNT_GRE_INGRESS = 9,
	RAIL_CNT_FRAG_FIRST = 10,
	RAIL_CNT_FRAG_HIT = 11,
	RAIL_CNT_FRAG_FALLBACK = 12,
	RAIL_CNT_DROP_REASON_BASE = 32, /* + enum rail_drop_reason */
	RAIL_CNT_MAX = RAIL_CNT_DROP_REASON_BASE + RAIL_DROP_REASON_MAX,
};

/*
 * The value of rail_counters' only entry: every counter of one CPU side by side, so a packet
 * reaches all the counters it bumps through ONE map lookup (a per-CPU array keeps each entry in
 * its own allocation, so one entry per counter would mean one lookup per counter).
 */
struct rail_counter_block {
	__u64 count[RAIL_CNT_MAX];
};

/* Index of the counter of one drop reason (plain integers: C++20 forbids enum + enum). */
static inline __u32 rail_drop_counter(enum rail_drop_reason reason)
{
	return (__u32)RAIL_CNT_DROP_REASON_BASE + (__u32)reason;
}

/* rail_service_stats / rail_backend_stats: PERCPU_ARRAY, id -> struct rail_traffic. */
struct rail_traffic {
	__u64 packets;
	__u64 bytes; /* frame bytes as received */
	__u64 new_flows;
	__u64 pad;
};
RAIL_STATIC_ASSERT(sizeof(struct rail_traffic) == 32, "rail_traffic layout");

#endif /* RAIL_ABI_H */
