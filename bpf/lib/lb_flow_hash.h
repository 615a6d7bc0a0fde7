/* The balancer's entry to THE flow hash (abi/rail_hash.h), by address family. */
#ifndef RAIL_BPF_LIB_LB_FLOW_HASH_H
#define RAIL_BPF_LIB_LB_FLOW_HASH_H

#include <linux/types.h>

#include "rail_abi.h"

/*
 * Hash of a client -> VIP flow over the service's `fields` (enum rail_hash_field). Addresses and
 * ports in network order as read from the packet; IPv4 uses src[0]/dst[0]. The one function the
 * balancer hashes with, also run by the flow-hash vector test (bpf/hash_probe.bpf.c).
 */
static __always_inline __u32 lb_hash(const __u32 *src, const __u32 *dst, __be16 sport, __be16 dport,
				     __u8 proto, __u8 family, __u32 fields, __u32 seed)
{
	if (family == RAIL_AF_INET)
		return rail_flow_hash_v4(src[0], dst[0], sport, dport, proto, fields, seed);
	return rail_flow_hash_v6(src, dst, sport, dport, proto, fields, seed);
}

#endif /* RAIL_BPF_LIB_LB_FLOW_HASH_H */
