/* The per-packet working state of the balancer: parse results, the choice made, the verdict. */
#ifndef RAIL_BPF_LIB_LB_CTX_H
#define RAIL_BPF_LIB_LB_CTX_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "rail_abi.h"
#include "lib/lb_parse.h"

/* What one packet did; counted once, at the end (the same fields as the reference Verdict). */
struct lb_verdict {
	__u32 action;	  /* enum rail_verdict */
	__u32 reason;	  /* enum rail_drop_reason, for DROP */
	__u32 service_id; /* RAIL_NO_BACKEND when none */
	__u32 backend_id; /* RAIL_NO_BACKEND when none */
	__u32 new_flow;
};

/*
 * Everything one packet needs on its way through. It lives in a per-CPU scratch map rather
 * than on the stack: the 512-byte BPF stack is shared by the whole call chain, and the header
 * buffers of the deepest helpers need it more.
 */
struct lb_ctx {
	struct lb_pkt p;
	struct lb_verdict v;
	__u64 now;
	/* The choice made for the packet (§3-§5). */
	__u32 service_id;
	__u32 hash_fields;
	__u32 backend_id;
	__u32 hash;
	__u8 encap;
	__u8 pad[7];
	/* A copy of rail_node: one lookup per packet, and stable while the packet is handled. */
	struct rail_node_config node;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_ctx);
} lb_scratch SEC(".maps");

#endif /* RAIL_BPF_LIB_LB_CTX_H */
