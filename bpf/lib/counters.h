/* Per-CPU counter helpers: lock-free packet/byte counts read and summed by user space. */
#ifndef RAIL_BPF_LIB_COUNTERS_H
#define RAIL_BPF_LIB_COUNTERS_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * Declare a BPF_MAP_TYPE_PERCPU_ARRAY of `nr` entries of `value_type`, indexed by an enum.
 * Per-CPU so the hot path never contends on a cache line; user space sums the CPUs.
 */
#define RAIL_PERCPU_COUNTERS(map_name, value_type, nr)                                             \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                           \
		__uint(max_entries, nr);                                                           \
		__type(key, __u32);                                                                \
		__type(value, value_type);                                                         \
	} map_name SEC(".maps")

/*
 * Add one packet of `nbytes` to the counter at `index` of a map declared with
 * RAIL_PERCPU_COUNTERS whose value type has `packets` and `bytes` members (e.g.
 * struct rail_decap_counter in abi/rail_decap.h). An index out of range is a no-op.
 */
#define rail_count(map, index, nbytes)                                                             \
	({                                                                                         \
		__u32 rail_count_key_ = (index);                                                   \
		__typeof__(*(map).value) *rail_count_val_ =                                        \
		    bpf_map_lookup_elem(&(map), &rail_count_key_);                                 \
		if (rail_count_val_) {                                                             \
			rail_count_val_->packets++;                                                \
			rail_count_val_->bytes += (nbytes);                                        \
		}                                                                                  \
	})

#endif /* RAIL_BPF_LIB_COUNTERS_H */
