/* The balancer's maps and rodata settings (bpf/balancer.bpf.c <-> dataplane/xdp_data_plane). */
#ifndef RAIL_BPF_LIB_LB_MAPS_H
#define RAIL_BPF_LIB_LB_MAPS_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "rail_abi.h"

/*
 * Settings fixed for the life of the loaded program (written between open and load). Node
 * settings that change with the config live in rail_node instead.
 */
const volatile __u64 lb_conn_tcp_timeout_ns = 300ull * 1000000000ull;
const volatile __u64 lb_conn_other_timeout_ns = 30ull * 1000000000ull;
/*
 * A connection hit rewrites last_seen only when it is older than this: writing it on every
 * packet dirties the entry's cache line per packet for a value only compared against idle
 * timeouts of tens of seconds. User space sets it (1 s, at most half the shortest timeout).
 */
const volatile __u64 lb_conn_refresh_ns = 1000000000ull;
/*
 * How many ticks (RAIL_FLOW_CACHE_TICK_SHIFT) a rail_flow_cache slot is trusted, counted from
 * its entry's last_seen; 0 turns the cache off. User space keeps it at most lb_conn_refresh_ns
 * and half the shortest idle timeout (and turns the cache off below one tick), so a slot is not
 * trusted past its entry's idle timeout (an entry evicted or deleted earlier leaves a slot that
 * still holds the flow's Maglev pick, what a new entry would get). A flow served from the cache
 * touches its entry about once per window: the first packet after it refreshes the entry
 * (last_seen, LRU recency) and the slot.
 */
const volatile __u32 lb_flow_cache_ticks = 0;

/*
 * Bitmap screen of the VIP addresses (abi/rail_abi.h): an inlined ARRAY lookup decides PASS for
 * nearly every packet that is not for a VIP, without a helper call.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RAIL_VIP_FILTER_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} rail_vip_filter SEC(".maps");

/*
 * Destination addresses that are VIPs (packet-path §2.4): consulted only when the filter lets a
 * packet through and no service takes it (a filter collision, or a VIP without that service).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RAIL_MAX_VIP_ADDRS);
	__type(key, struct rail_addr_key);
	__type(value, __u32);
} rail_vip_addrs SEC(".maps");

/* The node's GRE ingress (tunnel endpoint) addresses (packet-path §2.3). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct rail_addr_key);
	__type(value, __u32);
} rail_ingress_addrs SEC(".maps");

/*
 * (VIP, proto, port | 0) -> service. Twice the services: a port-0 entry flagged
 * RAIL_SVC_FRAG_FALLBACK_ONLY may stand beside each (VIP, proto) for fragments (§4).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * RAIL_MAX_SERVICES);
	__type(key, struct rail_service_key);
	__type(value, struct rail_service);
} rail_services SEC(".maps");

/*
 * service_id -> service, for a fragment-table hit that names its service by id. A free slot
 * holds service_id == RAIL_NO_BACKEND (no service can have that id).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RAIL_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct rail_service);
} rail_service_by_id SEC(".maps");

/*
 * Maglev tables of M <= RAIL_MAGLEV_FAST_ENTRIES - 1 (abi/rail_abi.h): every inner map has the
 * template's size, so the verifier inlines both inner lookups (no call). Entry 0 = M.
 * Inner maps of both outer maps are BPF_F_MMAPABLE: user space fills a new table with one
 * memcpy instead of a kernel copy per entry (same lookups for the program).
 */
struct lb_maglev_fast_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RAIL_MAGLEV_FAST_ENTRIES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, RAIL_MAX_SERVICES);
	__type(key, __u32);
	__array(values, struct lb_maglev_fast_inner);
} rail_maglev_fast SEC(".maps");

/*
 * Larger tables: entry 0 = M, entries 1..M = backend ids. BPF_F_INNER_MAP lets every service
 * have its own M (kernel >= 5.10) at the price of two lookup calls; user space fills a new inner
 * map and then swaps the outer slot, so a lookup sees one whole table (abi/rail_abi.h).
 */
struct lb_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, RAIL_MAX_SERVICES);
	__type(key, __u32);
	__array(values, struct lb_maglev_inner);
} rail_maglev_tables SEC(".maps");

/* backend_id -> where to send; a free slot is family 0, state DOWN. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RAIL_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct rail_backend);
} rail_backends SEC(".maps");

/*
 * backend_id -> service_id owning it: a connection or fragment entry is honoured only if its
 * backend still belongs to the service the packet is for (packet-path §3).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RAIL_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, __u32);
} rail_backend_owner SEC(".maps");

/*
 * The connection tables, one per family (abi/rail_abi.h): an IPv4 flow is keyed by 16 bytes
 * instead of the 40 an IPv6 one needs, which makes its lookup (the established-flow path's
 * main cost) cheaper. LRU so a full table evicts the coldest flow instead of refusing new ones;
 * BPF_F_NO_COMMON_LRU gives each CPU its own LRU lists (no global lock on the hot path; RSS
 * keeps a flow on one CPU anyway). User space sizes both before load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 18);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct rail_flow_key4);
	__type(value, struct rail_conn);
} rail_conntrack4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 16);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct rail_flow_key);
	__type(value, struct rail_conn);
} rail_conntrack6 SEC(".maps");

/*
 * The per-CPU flow cache in front of rail_conntrack4 (abi/rail_abi.h): a plain ARRAY with one
 * region per CPU rather than a PERCPU_ARRAY, whose lookup costs a second dependent load on the
 * miss paths. User space sizes it (possible CPUs << RAIL_FLOW_CACHE_BITS) and never pins it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rail_flow_cache_slot);
} rail_flow_cache SEC(".maps");

/* The flow cache's generation (abi/rail_abi.h): pinned, odd while apply() writes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rail_flow_cache_gen SEC(".maps");

/*
 * The service-lookup generation (abi/rail_abi.h): a connection entry stamped with the current
 * value may skip the rail_services lookup (one entry; an inlined lookup).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rail_service_gen SEC(".maps");

/* First fragments seen: (src, dst, proto, IP ID) -> (service, backend) (packet-path §4). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 14);
	__type(key, struct rail_frag_key);
	__type(value, struct rail_frag);
} rail_fragments SEC(".maps");

/* Node settings that change with the config (one entry). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rail_node_config);
} rail_node SEC(".maps");

/* All counters of a CPU in one entry (summed by user space): one lookup per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rail_counter_block);
} rail_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RAIL_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct rail_traffic);
} rail_service_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RAIL_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct rail_traffic);
} rail_backend_stats SEC(".maps");

#endif /* RAIL_BPF_LIB_LB_MAPS_H */
