/* Fixed-width integer types for headers shared by the eBPF programs (C) and user space (C++). */
#ifndef RAIL_ABI_TYPES_H
#define RAIL_ABI_TYPES_H

#include <linux/types.h>

#if defined(__cplusplus)
#define RAIL_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define RAIL_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* Network <-> host order that works the same in clang -target bpf and in g++/clang++. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RAIL_NTOHL(x) __builtin_bswap32(x)
#define RAIL_NTOHS(x) ((__u16)__builtin_bswap16(x))
#else
#define RAIL_NTOHL(x) (x)
#define RAIL_NTOHS(x) ((__u16)(x))
#endif
#define RAIL_HTONL(x) RAIL_NTOHL(x)
#define RAIL_HTONS(x) RAIL_NTOHS(x)

#endif /* RAIL_ABI_TYPES_H */
