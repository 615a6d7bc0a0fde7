/* The per-packet working state of the balancer: parse results, the choice made, the verdict. */
#ifndef RAIL_BPF_LIB_LB_CTX_H
#define RAIL_BPF_LIB_LB_CTX_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "rail_abi.h"
#include "lib/lb_parse.h"

/* Internal: TX of an ICMP "too big" still to be built (never counted as such). */
#define LB_VERDICT_TOO_BIG 3

/* What one packet did; counted once, at the end (the same fields as the reference Verdict). */
struct lb_verdict {
	__u32 action;	  /* enum rail_verdict */
	__u32 reason;	  /* enum rail_drop_reason, for DROP */
	__u32 service_id; /* RAIL_NO_BACKEND when none */
	__u32 backend_id; /* RAIL_NO_BACKEND when none */
	__u8 new_flow;
	/* The hot path's one event, counted with the verdict (one counter lookup per packet). */
	__u8 conn_hit;
	__u8 pad[2];
};

/*
 * Everything one packet needs on its way through. It lives in a per-CPU scratch entry (an
 * inlined lookup) rather than on the stack, which the VIP path's call chain needs (512 bytes
 * for all frames together). It is NOT cleared per packet: every field is written by the path
 * that later reads it (the pass path writes a handful), and the node record is read in place.
 */
struct lb_ctx {
	struct lb_pkt p;
	struct lb_verdict v;
	__u64 now; /* lb_now(), taken only by paths that use the connection table */
	/* The choice made for the packet (§3-§5). */
	__u32 service_id;
	__u32 hash_fields;
	__u32 backend_id;
	__u32 hash; /* valid once have_hash: computed only if Maglev, GUE or IPv6 outer need it */
	__u32 too_big_mtu; /* for LB_VERDICT_TOO_BIG: the MTU to advertise */
	__u8 encap;
	__u8 have_hash;
	__u8 is_vip;	  /* destination confirmed a VIP (a service found, or rail_vip_addrs) */
	__u8 gre_ingress; /* came in GRE to an ingress address (§2.3) */
	/* The fast path looked this packet's flow up and found no entry (lb_fast.h). */
	__u8 conn_absent;
	__u8 pad[3];
	__u32 service_gen; /* lb_service_gen(), read before the service lookup */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_ctx);
} lb_scratch SEC(".maps");

#endif /* RAIL_BPF_LIB_LB_CTX_H */
