/* Choosing where a packet goes: services, Maglev, connection and fragment tables (§2.6-§4). */
#ifndef RAIL_BPF_LIB_LB_SELECT_H
#define RAIL_BPF_LIB_LB_SELECT_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "rail_abi.h"
#include "lib/lb_maps.h"
#include "lib/lb_parse.h"
#include "lib/lb_flow_hash.h"

#define LB_PORT_FIELDS (RAIL_HASH_SRC_PORT | RAIL_HASH_DST_PORT)

/* The kernel's tick rate, from its config (/proc/config.gz); 0 when libbpf cannot tell. */
extern int CONFIG_HZ __kconfig __weak;

/*
 * The connection table's clock, in ns. bpf_jiffies64() is inlined by the verifier, while
 * bpf_ktime_get_ns() is a helper call that costs as much as a hash lookup on a VM with
 * return-thunk mitigations; tick resolution (<= 10 ms) is plenty against idle timeouts of
 * tens of seconds. CONFIG_HZ is a load-time constant, so only one branch survives.
 */
static __always_inline __u64 lb_now(void)
{
	if (CONFIG_HZ > 0)
		return bpf_jiffies64() * (1000000000ull / (__u64)CONFIG_HZ);
	return bpf_ktime_get_ns();
}

/* The node record (an inlined array lookup: cheap enough to repeat where it is needed). */
static __always_inline struct rail_node_config *lb_node(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&rail_node, &zero);
}

static __always_inline __u32 lb_seed(void)
{
	struct rail_node_config *node = lb_node();

	return node ? node->hash_seed : 0;
}

static __always_inline void lb_copy_addr(__u32 *to, const __u32 *from)
{
	to[0] = from[0];
	to[1] = from[1];
	to[2] = from[2];
	to[3] = from[3];
}

static __always_inline int lb_addr_eq(const __u32 *a, const __u32 *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;
}

static __always_inline int lb_addr_in(void *map, const __u32 *addr, __u8 family)
{
	struct rail_addr_key key = {};

	lb_copy_addr(key.addr, addr);
	key.family = family;
	return bpf_map_lookup_elem(map, &key) != NULL;
}

static __always_inline struct rail_service *lb_service_at(const struct lb_pkt *p, __u8 proto,
							  __be16 port)
{
	struct rail_service_key key = {};

	lb_copy_addr(key.addr, p->dst);
	key.port = port;
	key.proto = proto;
	key.family = p->family;
	return bpf_map_lookup_elem(&rail_services, &key);
}

/* The service for (VIP, proto, port): the exact port, then the any-port service (§2.6). */
static __always_inline struct rail_service *lb_find_service(const struct lb_pkt *p, __u8 proto,
							    __be16 port)
{
	struct rail_service *svc = lb_service_at(p, proto, port);

	if (svc && !(svc->flags & RAIL_SVC_FRAG_FALLBACK_ONLY))
		return svc;
	if (port == 0)
		return NULL;
	svc = lb_service_at(p, proto, 0);
	if (svc && !(svc->flags & RAIL_SVC_FRAG_FALLBACK_ONLY))
		return svc;
	return NULL;
}

/*
 * The service that takes a later fragment without state (§4): the any-port service, else the
 * lowest-port one, which user space installs at port 0 flagged RAIL_SVC_FRAG_FALLBACK_ONLY.
 */
static __always_inline struct rail_service *lb_fragment_service(const struct lb_pkt *p)
{
	return lb_service_at(p, p->proto, 0);
}

/*
 * May `addr` be a VIP? The bitmap screen (abi/rail_abi.h): no false negatives, so a clear bit
 * is a definite PASS, decided without a helper call.
 */
static __always_inline int lb_vip_maybe(const __u32 *addr, __u8 family)
{
	__u32 bit = rail_vip_filter_bit(addr, family), word = bit >> 6;
	__u64 *w = bpf_map_lookup_elem(&rail_vip_filter, &word);

	return w && (*w >> (bit & 63)) & 1;
}

/* Is `addr` a VIP? The authority, for packets that passed the screen but found no service. */
static __always_inline int lb_vip_confirm(const __u32 *addr, __u8 family)
{
	return lb_addr_in(&rail_vip_addrs, addr, family);
}

/*
 * Backend id at table[hash % M] of the service, or RAIL_NO_BACKEND. A table in
 * rail_maglev_fast costs three inlined array lookups; only tables larger than its inner maps
 * take the two lookup calls of rail_maglev_tables.
 */
static __always_inline __u32 lb_maglev_pick(__u32 service_id, __u32 hash)
{
	__u32 zero = 0, pos;
	__u32 *m, *id;
	void *table;

	table = bpf_map_lookup_elem(&rail_maglev_fast, &service_id);
	if (table) {
		m = bpf_map_lookup_elem(table, &zero);
		if (!m || *m == 0)
			return RAIL_NO_BACKEND;
		pos = hash % *m + 1;
		id = bpf_map_lookup_elem(table, &pos);
		return id ? *id : RAIL_NO_BACKEND;
	}
	table = bpf_map_lookup_elem(&rail_maglev_tables, &service_id);
	if (!table)
		return RAIL_NO_BACKEND;
	m = bpf_map_lookup_elem(table, &zero);
	if (!m || *m == 0)
		return RAIL_NO_BACKEND;
	pos = hash % *m + 1;
	id = bpf_map_lookup_elem(table, &pos);
	return id ? *id : RAIL_NO_BACKEND;
}

/*
 * May an existing flow keep `backend_id`? Only if the backend still belongs to the service and
 * is up or drained (drained backends keep their flows, §3).
 */
static __always_inline struct rail_backend *lb_usable_backend(__u32 backend_id, __u32 service_id)
{
	struct rail_backend *be = bpf_map_lookup_elem(&rail_backends, &backend_id);
	__u32 *owner = bpf_map_lookup_elem(&rail_backend_owner, &backend_id);

	if (!be || !owner || be->family == 0 || *owner != service_id)
		return NULL;
	if (be->state != RAIL_BACKEND_UP && be->state != RAIL_BACKEND_DRAINED)
		return NULL;
	return be;
}

static __always_inline int lb_usable(__u32 backend_id, __u32 service_id)
{
	return lb_usable_backend(backend_id, service_id) != NULL;
}

/*
 * The current service-lookup generation (abi/rail_abi.h). Read BEFORE the rail_services lookup
 * whose result is stamped with it: a config change racing the packet then leaves an older
 * stamp, which only costs that flow one more lookup.
 */
static __always_inline __u32 lb_service_gen(void)
{
	__u32 zero = 0;
	__u32 *gen = bpf_map_lookup_elem(&rail_service_gen, &zero);

	return gen ? *gen : 0;
}

/*
 * How long `conn` has been idle at `now`, in ns. Another CPU may have refreshed it at a later
 * jiffy than the `now` this packet read: that is no age at all, not a wrap to ~2^64 (which
 * would make a live entry look expired and re-pick its flow).
 */
static __always_inline __u64 lb_conn_age(const struct rail_conn *conn, __u64 now)
{
	__u64 seen = conn->last_seen_ns;

	return now > seen ? now - seen : 0;
}

/* The current rail_flow_cache_gen: read before a slot is checked or filled. */
static __always_inline __u32 lb_flow_cache_gen(void)
{
	__u32 zero = 0;
	__u32 *gen = bpf_map_lookup_elem(&rail_flow_cache_gen, &zero);

	return gen ? *gen : RAIL_FLOW_CACHE_WRITING;
}

/*
 * The flow cache (abi/rail_abi.h, docs/xdp.md "Flow cache"). Returns this CPU's slot for `key`,
 * or NULL when the cache is off (a load-time constant: the verifier then drops every use) or
 * while user space writes what slots depend on (`cgen` from lb_flow_cache_gen has
 * RAIL_FLOW_CACHE_WRITING). Both the CPU id and the ARRAY lookup are inlined: no helper call.
 */
static __always_inline struct rail_flow_cache_slot *
lb_flow_cache_slot(const struct rail_flow_key4 *key, __u32 cgen)
{
	__u32 idx;

	if (!lb_flow_cache_ticks || (cgen & RAIL_FLOW_CACHE_WRITING))
		return NULL;
	idx = rail_flow_cache_index(key, lb_seed(), bpf_get_smp_processor_id());
	return bpf_map_lookup_elem(&rail_flow_cache, &idx);
}

static __always_inline __u32 lb_flow_cache_tick(__u64 t)
{
	return (__u32)(t >> RAIL_FLOW_CACHE_TICK_SHIFT);
}

/*
 * Is `slot` (of whichever flow) filled under `cgen` from an entry last seen at most
 * lb_flow_cache_ticks - 1 whole ticks before `now`? Its entry is then less than
 * lb_flow_cache_ticks << RAIL_FLOW_CACHE_TICK_SHIFT ns idle, which user space keeps within
 * both the refresh interval and half the idle timeouts.
 */
static __always_inline int lb_flow_cache_fresh(const struct rail_flow_cache_slot *slot, __u32 cgen,
					       __u64 now)
{
	return slot->cache_gen == cgen &&
	       lb_flow_cache_tick(now) - slot->stamp < lb_flow_cache_ticks;
}

/*
 * Does `slot` hold `key` and is it fresh? A hit on a positive slot gives the flow's service and
 * backend (whether the backend is still usable is the caller's check, as for a table entry); a
 * hit on a negative one (backend_id RAIL_NO_BACKEND) means: the table, without a new fill.
 */
static __always_inline int lb_flow_cache_hit(const struct rail_flow_cache_slot *slot,
					     const struct rail_flow_key4 *key, __u32 cgen,
					     __u64 now)
{
	if (((slot->key.src ^ key->src) | (slot->key.dst ^ key->dst) |
	     (*(__u32 *)&slot->key.sport ^ *(__u32 *)&key->sport) |
	     (slot->key.proto ^ key->proto)) != 0)
		return 0;
	return lb_flow_cache_fresh(slot, cgen, now);
}

/*
 * Would a slot stamped from an entry last seen `age` ns before `now` be stale at once? Then the
 * entry is refreshed before the fill (docs/xdp.md "Flow cache"): otherwise every packet of the
 * flow would look the table up and fill again until the entry's own refresh interval.
 */
static __always_inline int lb_flow_cache_stale(__u64 now, __u64 age)
{
	return lb_flow_cache_ticks &&
	       lb_flow_cache_tick(now) - lb_flow_cache_tick(now - age) >= lb_flow_cache_ticks;
}

/*
 * Is `backend_id` the one the current Maglev table picks for the IPv4 flow `key` of service
 * `service_id`? A call, not inlined: it runs at most once per slot and window
 * (lb_flow_cache_fill), and its hash and table temporaries then stay out of the entry
 * function's frame (the verifier allows 512 bytes of stack over a whole call chain).
 * Returns 1 or 0.
 */
static __noinline int lb_maglev_agrees(const struct rail_flow_key4 *key, __u32 service_id,
				       __u32 backend_id, __u32 hash_fields)
{
	__u32 hash;

	hash = rail_flow_hash_v4(key->src, key->dst, key->sport, key->dport, key->proto,
				 hash_fields, lb_seed());
	return lb_maglev_pick(service_id, hash) == backend_id;
}

/*
 * Fills the slot of a flow found in the table from its entry, stamped `seen` (the entry's
 * last_seen_ns): positive if the entry's backend is the one the current Maglev table picks for
 * the flow (abi/rail_abi.h: then no table write under this cache_gen can give the flow another
 * backend), negative if not (a flow kept on another backend by its entry, after a table change
 * or on a drained backend): its packets then go to the table without this check until the
 * window ends. The caller fills only a slot that is not fresh (lb_flow_cache_fresh): a slot
 * another flow filled and may still use is left to it, so colliding flows of a large working
 * set do not evict each other, and pay for the check, on every packet.
 */
static __always_inline void lb_flow_cache_fill(struct rail_flow_cache_slot *slot,
					       const struct rail_flow_key4 *key, __u32 backend_id,
					       __u32 service_id, __u32 hash_fields, __u32 cgen,
					       __u64 seen)
{
	slot->key = *key;
	slot->backend_id = lb_maglev_agrees(key, service_id, backend_id, hash_fields)
			       ? backend_id
			       : RAIL_NO_BACKEND;
	slot->service_id = service_id;
	slot->cache_gen = cgen;
	slot->stamp = lb_flow_cache_tick(seen);
}

/* A connection-table key of either family (one per table, abi/rail_abi.h). */
union lb_conn_key {
	struct rail_flow_key4 v4; /* rail_conntrack4 */
	struct rail_flow_key v6;  /* rail_conntrack6 */
};

static __always_inline void lb_conn_key_fill(union lb_conn_key *key, const __u32 *src,
					     const __u32 *dst, __be16 sport, __be16 dport,
					     __u8 proto, __u8 family)
{
	if (family == RAIL_AF_INET) {
		key->v4.src = src[0];
		key->v4.dst = dst[0];
		key->v4.sport = sport;
		key->v4.dport = dport;
		key->v4.proto = proto;
		key->v4.pad[0] = key->v4.pad[1] = key->v4.pad[2] = 0;
		return;
	}
	lb_copy_addr(key->v6.src, src);
	lb_copy_addr(key->v6.dst, dst);
	key->v6.sport = sport;
	key->v6.dport = dport;
	key->v6.proto = proto;
	key->v6.family = family;
	key->v6.pad = 0;
}

/*
 * Keeps the two tables' call sites apart: clang would otherwise merge them into ONE call on
 * "either map" (the key pointer is the same), and the verifier inlines the lookup only of a
 * call site that sees a single map (for another, a helper call and an indirect call).
 */
#define lb_keep_apart(v) asm volatile("" : "+r"(v))

/* The flow's entry in its family's table, or NULL. */
static __always_inline struct rail_conn *lb_conn_find(const union lb_conn_key *key, __u8 family)
{
	struct rail_conn *conn;

	if (family == RAIL_AF_INET) {
		conn = bpf_map_lookup_elem(&rail_conntrack4, &key->v4);
		lb_keep_apart(conn);
		return conn;
	}
	return bpf_map_lookup_elem(&rail_conntrack6, &key->v6);
}

static __always_inline __u64 lb_conn_timeout(__u8 proto)
{
	return proto == LB_PROTO_TCP ? lb_conn_tcp_timeout_ns : lb_conn_other_timeout_ns;
}

/*
 * The backend of connection entry `conn` (NULL: none) if it is still usable, else
 * RAIL_NO_BACKEND. `refresh` marks the flow as seen (a packet of the flow); an ICMP error only
 * peeks. The entry is updated in place through the value pointer (no map update call on a
 * hit), and only once its timestamp is lb_conn_refresh_ns old, so a busy flow does not dirty
 * it every packet. A refreshing hit also restamps the entry with the service just looked up
 * and `gen` (read before that lookup), so the flow's next packets take the fast path again
 * after a config change.
 */
static __always_inline __u32 lb_conn_use(struct rail_conn *conn, __u8 proto, __u32 service_id,
					 __u64 now, int refresh, __u32 gen)
{
	__u64 age;

	if (!conn)
		return RAIL_NO_BACKEND;
	age = lb_conn_age(conn, now);
	if (age > lb_conn_timeout(proto))
		return RAIL_NO_BACKEND;
	if (refresh && age > lb_conn_refresh_ns)
		conn->last_seen_ns = now;
	if (!lb_usable(conn->backend_id, service_id))
		return RAIL_NO_BACKEND;
	if (refresh && (conn->service_gen != gen || conn->service_id != service_id)) {
		conn->service_id = service_id;
		conn->service_gen = gen;
	}
	return conn->backend_id;
}

static __always_inline void lb_conn_write(const union lb_conn_key *key, __u8 family,
					  __u32 backend_id, __u32 service_id, __u64 now, __u32 gen)
{
	struct rail_conn conn = {
	    .backend_id = backend_id,
	    .service_id = service_id,
	    .last_seen_ns = now,
	    .service_gen = gen,
	};

	long err;

	if (family == RAIL_AF_INET) {
		err = bpf_map_update_elem(&rail_conntrack4, &key->v4, &conn, BPF_ANY);
		lb_keep_apart(err);
		return;
	}
	bpf_map_update_elem(&rail_conntrack6, &key->v6, &conn, BPF_ANY);
}

static __always_inline void lb_frag_key(struct rail_frag_key *key, const struct lb_pkt *p)
{
	lb_copy_addr(key->src, p->src);
	lb_copy_addr(key->dst, p->dst);
	key->id = p->frag_id;
	key->proto = p->proto;
	key->family = p->family;
	key->pad = 0;
}

#endif /* RAIL_BPF_LIB_LB_SELECT_H */
