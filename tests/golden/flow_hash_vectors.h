/*
 * Golden vectors for Rail's flow hash (abi/rail_hash.h, specified in docs/flow-hash.md).
 * Plain C so that every data plane's tests can include it (C++ unit tests, eBPF tests).
 *
 * How the expected values were derived: NOT with abi/rail_hash.h. A separate reference of Bob
 * Jenkins' lookup3 hashword() (the generic loop over a uint32_t array, written from his
 * published description; the same reference is in tests/unit/flow_hash_test.cc and reproduces
 * his published hashlittle("Four score and seven years ago") values 0x17770551 / 0xcd628161)
 * was applied to the word layout of docs/flow-hash.md: addresses as big-endian words, one word
 * (sport << 16) | dport, fields outside the mask zeroed, initval = seed ^ protocol (protocol
 * zeroed too when outside the mask), length 3 (IPv4) or 9 (IPv6).
 * A change to any value here means the hash changed: every node of a cluster would disagree.
 */
#ifndef RAIL_GOLDEN_FLOW_HASH_VECTORS_H
#define RAIL_GOLDEN_FLOW_HASH_VECTORS_H

#include "abi/rail_hash.h"

struct rail_flow_hash_vector {
	int family;           /* 4 or 6 */
	const char* src;      /* client address, text */
	const char* dst;      /* VIP, text */
	unsigned int sport;   /* host order */
	unsigned int dport;   /* host order */
	unsigned int proto;   /* IPPROTO_* */
	unsigned int fields;  /* mask of enum rail_hash_field */
	unsigned int seed;
	unsigned int expected;
};

#ifdef __cplusplus
#define RAIL_GOLDEN_ARRAY inline constexpr
#else
#define RAIL_GOLDEN_ARRAY static const
#endif

RAIL_GOLDEN_ARRAY struct rail_flow_hash_vector rail_flow_hash_vectors[] = {
	{4, "198.18.0.10", "198.18.100.1", 40000, 80, 6, RAIL_HASH_5TUPLE, 0x5261696cu, 0xb8db5d1cu},
	{4, "198.18.0.10", "198.18.100.1", 40001, 80, 6, RAIL_HASH_5TUPLE, 0x5261696cu, 0xb53ee37fu},
	{4, "198.18.0.11", "198.18.100.1", 40000, 80, 6, RAIL_HASH_5TUPLE, 0x5261696cu, 0x0d923ebdu},
	{4, "198.18.0.10", "198.18.100.1", 40000, 80, 17, RAIL_HASH_5TUPLE, 0x5261696cu, 0x6ce59cc9u},
	{4, "198.18.0.10", "198.18.100.1", 40000, 80, 6, RAIL_HASH_5TUPLE, 0x00000000u, 0xeaf9d808u},
	{4, "198.18.0.10", "198.18.100.1", 40000, 80, 6, RAIL_HASH_5TUPLE, 0x00000001u, 0xa998ea87u},
	{4, "198.18.0.10", "198.18.100.1", 40000, 80, 6, RAIL_HASH_5TUPLE, 0xdeadbeefu, 0x5dba76ddu},
	{4, "198.18.0.10", "198.18.100.1", 40000, 80, 6, RAIL_HASH_3TUPLE, 0x5261696cu, 0xa651c311u},
	{4, "198.18.0.10", "198.18.100.1", 0, 0, 17, RAIL_HASH_3TUPLE, 0x5261696cu, 0x36ef8eadu},
	{4, "198.18.0.10", "198.18.100.1", 40000, 80, 6, RAIL_HASH_SRC_AFFINITY, 0x5261696cu, 0xb64c599fu},
	{4, "198.18.0.10", "198.18.100.1", 51234, 443, 6, RAIL_HASH_SRC_AFFINITY, 0x5261696cu, 0xb64c599fu},
	{4, "198.18.0.10", "198.18.100.1", 40000, 80, 6, RAIL_HASH_SRC_ADDR, 0x5261696cu, 0x1310b619u},
	{4, "198.18.0.10", "198.18.100.1", 40000, 80, 6, RAIL_HASH_SRC_PORT, 0x5261696cu, 0x63859502u},
	{4, "198.18.0.10", "198.18.100.1", 40000, 80, 6, RAIL_HASH_DST_PORT, 0x5261696cu, 0x90adeb0bu},
	{4, "198.18.0.10", "198.18.100.1", 40000, 80, 6, RAIL_HASH_PROTO, 0x5261696cu, 0xc7351cc6u},
	{4, "0.0.0.0", "0.0.0.0", 0, 0, 0, RAIL_HASH_5TUPLE, 0x00000000u, 0x1b68e557u},
	{6, "2001:db8::10", "2001:db8:100::1", 40000, 80, 6, RAIL_HASH_5TUPLE, 0x5261696cu, 0xeb9837e2u},
	{6, "2001:db8::10", "2001:db8:100::1", 40000, 80, 17, RAIL_HASH_5TUPLE, 0x5261696cu, 0x9f748cf6u},
	{6, "2001:db8::10", "2001:db8:100::1", 40000, 80, 6, RAIL_HASH_5TUPLE, 0x00000000u, 0xeb6841d8u},
	{6, "2001:db8::10", "2001:db8:100::1", 40000, 80, 6, RAIL_HASH_5TUPLE, 0xdeadbeefu, 0x5fdc688eu},
	{6, "2001:db8:ffff:1234:5678:9abc:def0:1", "2001:db8:100::1", 65535, 443, 6, RAIL_HASH_5TUPLE, 0x5261696cu, 0xc17f1557u},
	{6, "2001:db8::10", "2001:db8:100::1", 40000, 80, 6, RAIL_HASH_3TUPLE, 0x5261696cu, 0x82de3b9eu},
	{6, "2001:db8::10", "2001:db8:100::1", 0, 0, 17, RAIL_HASH_3TUPLE, 0x5261696cu, 0xadcec0feu},
	{6, "2001:db8::10", "2001:db8:100::1", 40000, 80, 6, RAIL_HASH_SRC_AFFINITY, 0x5261696cu, 0xf52f7acau},
	{6, "2001:db8::10", "2001:db8:100::1", 40000, 80, 6, RAIL_HASH_DST_ADDR, 0x5261696cu, 0xed8b42a4u},
	{6, "2001:db8::10", "2001:db8:100::1", 40000, 80, 6, RAIL_HASH_SRC_PORT | RAIL_HASH_DST_PORT, 0x5261696cu, 0xf84e4d66u},
};

#define RAIL_FLOW_HASH_VECTOR_COUNT (sizeof(rail_flow_hash_vectors) / sizeof(rail_flow_hash_vectors[0]))

#endif /* RAIL_GOLDEN_FLOW_HASH_VECTORS_H */
