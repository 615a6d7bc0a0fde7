// Tests for the flow hash: golden vectors, equivalence with an independent lookup3 reference,
// and the spread of real-looking client flows over Maglev buckets and backends.
#include "core/flow/flow_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "golden/flow_hash_vectors.h"

namespace rail {
namespace {

// ---- Reference lookup3, written from Bob Jenkins' description of lookup3.c (2006): a 3-word
// state initialised to 0xdeadbeef + length + initval; each full 12-byte block is added in and
// mix()ed, the last (partial) block is added and final()ed, c is the result. Deliberately
// written as functions, not by reusing abi/rail_hash.h, so a mistake there cannot hide.
uint32_t rotl(uint32_t x, int k) {
  return (x << k) | (x >> (32 - k));
}

void ref_mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  a -= c, a ^= rotl(c, 4), c += b;
  b -= a, b ^= rotl(a, 6), a += c;
  c -= b, c ^= rotl(b, 8), b += a;
  a -= c, a ^= rotl(c, 16), c += b;
  b -= a, b ^= rotl(a, 19), a += c;
  c -= b, c ^= rotl(b, 4), b += a;
}

void ref_final(uint32_t& a, uint32_t& b, uint32_t& c) {
  c ^= b, c -= rotl(b, 14);
  a ^= c, a -= rotl(c, 11);
  b ^= a, b -= rotl(a, 25);
  c ^= b, c -= rotl(b, 16);
  a ^= c, a -= rotl(c, 4);
  b ^= a, b -= rotl(a, 14);
  c ^= b, c -= rotl(b, 24);
}

// hashword(): `length` 32-bit words, initial value 0xdeadbeef + 4 * length + initval.
uint32_t ref_hashword(const uint32_t* k, size_t length, uint32_t initval) {
  uint32_t a = 0xdeadbeefu + (static_cast<uint32_t>(length) << 2) + initval;
  uint32_t b = a, c = a;
  while (length > 3) {
    a += k[0], b += k[1], c += k[2];
    ref_mix(a, b, c);
    length -= 3, k += 3;
  }
  if (length == 0) return c;
  a += k[0];
  if (length > 1) b += k[1];
  if (length > 2) c += k[2];
  ref_final(a, b, c);
  return c;
}

// hashlittle() over bytes (little-endian words, partial last word zero-padded): only here to
// check ref_mix/ref_final against the values Jenkins published for it.
uint32_t ref_hashlittle(const char* text, size_t length, uint32_t initval) {
  auto word = [&](size_t at) {
    uint32_t w = 0;
    for (size_t j = 0; j < 4 && at + j < length; ++j)
      w |= uint32_t(static_cast<uint8_t>(text[at + j])) << (8 * j);
    return w;
  };
  uint32_t a = 0xdeadbeefu + static_cast<uint32_t>(length) + initval;
  uint32_t b = a, c = a;
  size_t at = 0;
  for (; length - at > 12; at += 12) {
    a += word(at), b += word(at + 4), c += word(at + 8);
    ref_mix(a, b, c);
  }
  if (length == at) return c;
  a += word(at);
  if (length - at > 4) b += word(at + 4);
  if (length - at > 8) c += word(at + 8);
  ref_final(a, b, c);
  return c;
}

// The flow hash as docs/flow-hash.md specifies it, on top of the reference hashword.
uint32_t ref_flow_hash(const FlowKey& key, uint32_t fields, uint32_t seed) {
  const int words_per_address = key.is_v4() ? 1 : 4;
  uint32_t k[9] = {};
  size_t n = 0;
  for (int i = 0; i < words_per_address; ++i)
    k[n++] = (fields & RAIL_HASH_SRC_ADDR) ? RAIL_NTOHL(key.raw.src[i]) : 0;
  for (int i = 0; i < words_per_address; ++i)
    k[n++] = (fields & RAIL_HASH_DST_ADDR) ? RAIL_NTOHL(key.raw.dst[i]) : 0;
  const uint32_t sport = (fields & RAIL_HASH_SRC_PORT) ? key.src_port() : 0;
  const uint32_t dport = (fields & RAIL_HASH_DST_PORT) ? key.dst_port() : 0;
  k[n++] = (sport << 16) | dport;
  const uint32_t proto = (fields & RAIL_HASH_PROTO) ? key.proto() : 0;
  return ref_hashword(k, n, seed ^ proto);
}

FlowKey key_of(const rail_flow_hash_vector& v) {
  auto src = IpAddress::parse(v.src);
  auto dst = IpAddress::parse(v.dst);
  EXPECT_TRUE(src.has_value() && dst.has_value()) << v.src << " " << v.dst;
  auto key = FlowKey::make(*src, *dst, static_cast<uint16_t>(v.sport),
                           static_cast<uint16_t>(v.dport), static_cast<uint8_t>(v.proto));
  EXPECT_TRUE(key.has_value());
  EXPECT_EQ(key->is_v4() ? 4 : 6, v.family);
  return *key;
}

TEST(FlowHashReference, ReproducesJenkinsPublishedValues) {
  // From the self-test driver in lookup3.c.
  const char* text = "Four score and seven years ago";
  EXPECT_EQ(ref_hashlittle(text, 30, 0), 0x17770551u);
  EXPECT_EQ(ref_hashlittle(text, 30, 1), 0xcd628161u);
  EXPECT_EQ(ref_hashlittle("", 0, 0), 0xdeadbeefu);
}

TEST(FlowHash, GoldenVectors) {
  ASSERT_GE(RAIL_FLOW_HASH_VECTOR_COUNT, 12u);
  for (const rail_flow_hash_vector& v : rail_flow_hash_vectors) {
    const FlowKey key = key_of(v);
    SCOPED_TRACE(key.to_string() + " fields " + std::to_string(v.fields) + " seed " +
                 std::to_string(v.seed));
    EXPECT_EQ(ref_flow_hash(key, v.fields, v.seed), v.expected);  // the vectors are sound
    EXPECT_EQ(flow_hash(key, v.fields, v.seed), v.expected);      // the shipped hash matches
  }
}

TEST(FlowHash, FieldMasksIgnoreWhatTheyExclude) {
  const auto a = FlowKey::make_v4(IpAddress::v4(0xC612000Au), IpAddress::v4(0xC6126401u), 40000, 80,
                                  packet::kIpProtoTcp);
  const auto b = FlowKey::make_v4(IpAddress::v4(0xC612000Au), IpAddress::v4(0xC6126401u), 50000,
                                  443, packet::kIpProtoTcp);
  EXPECT_EQ(flow_hash(a, kHashSrcAffinity, 7), flow_hash(b, kHashSrcAffinity, 7));
  EXPECT_EQ(flow_hash_3tuple(a, 7), flow_hash_3tuple(b, 7));
  EXPECT_EQ(flow_hash_3tuple(a, 7), flow_hash_3tuple(a.without_ports(), 7));
  EXPECT_NE(flow_hash_5tuple(a, 7), flow_hash_5tuple(b, 7));
  EXPECT_NE(flow_hash_5tuple(a, 7), flow_hash_5tuple(a, 8));  // the seed matters
}

TEST(FlowHash, MatchesReferenceOnRandomInputs) {
  std::mt19937_64 rng(20240601);
  for (int i = 0; i < 20000; ++i) {
    const bool v6 = i % 2;
    std::array<uint8_t, 16> s{}, d{};
    for (auto& byte : s) byte = static_cast<uint8_t>(rng());
    for (auto& byte : d) byte = static_cast<uint8_t>(rng());
    const uint16_t sport = static_cast<uint16_t>(rng()), dport = static_cast<uint16_t>(rng());
    const uint8_t proto = static_cast<uint8_t>(rng());
    const FlowKey key =
        v6 ? FlowKey::make_v6(IpAddress::v6(s), IpAddress::v6(d), sport, dport, proto)
           : FlowKey::make_v4(IpAddress::v4({s[0], s[1], s[2], s[3]}),
                              IpAddress::v4({d[0], d[1], d[2], d[3]}), sport, dport, proto);
    const uint32_t fields = static_cast<uint32_t>(rng() % 32);
    const uint32_t seed = static_cast<uint32_t>(rng());
    ASSERT_EQ(flow_hash(key, fields, seed), ref_flow_hash(key, fields, seed))
        << key.to_string() << " fields " << fields << " seed " << seed;
  }
}

// ---- Spread. 1M flows with Linux's default ephemeral ports 32768-60999, to 4 VIPs on ports 80
// and 443, from clients either spread over all of 198.18.0.0/15 (RFC 2544 benchmarking space)
// or packed into one /24 of it (a carrier-grade NAT pool or one corporate egress: many flows
// per address). Random inputs hide weak hashes (any sum of uniform fields is uniform); the
// clustered shape is where a weak hash shows.
enum class Clients { kWholeSlash15, kOneSlash24 };
constexpr uint32_t kBuckets = 65537;  // the default Maglev table size
constexpr uint32_t kBackends = 1000;
constexpr size_t kFlows = size_t{1} << 20;

std::vector<FlowKey> client_flows(Clients clients) {
  std::mt19937 rng(42);
  std::vector<FlowKey> flows;
  flows.reserve(kFlows);
  for (size_t i = 0; i < kFlows; ++i) {
    const uint32_t client = clients == Clients::kWholeSlash15 ? 0xC6120000u + rng() % 131072
                                                              : 0xC6120700u + rng() % 256;
    const uint32_t vip = 0xC6126401u + rng() % 4;  // 198.18.100.1-4
    const uint16_t sport = static_cast<uint16_t>(32768 + rng() % 28232);
    const uint16_t dport = rng() % 2 ? 443 : 80;
    flows.push_back(FlowKey::from_wire_v4(RAIL_HTONL(client), RAIL_HTONL(vip), RAIL_HTONS(sport),
                                          RAIL_HTONS(dport), packet::kIpProtoTcp));
  }
  return flows;
}

struct Spread {
  double chi_square_per_df;      // Pearson chi-square over the buckets / (buckets - 1)
  double max_backend_deviation;  // max |load - mean| / mean over the backends
};

// Buckets are mapped to backends by a fixed shuffled table giving each backend 65 or 66
// buckets, as a Maglev table does.
template <typename Hash>
Spread measure_spread(const std::vector<FlowKey>& flows, Hash hash) {
  std::vector<uint32_t> bucket_count(kBuckets, 0);
  for (const FlowKey& f : flows) ++bucket_count[hash(f) % kBuckets];
  const double expected = double(flows.size()) / kBuckets;
  double chi = 0;
  for (uint32_t c : bucket_count) chi += (c - expected) * (c - expected) / expected;

  std::vector<uint32_t> table(kBuckets);
  for (uint32_t i = 0; i < kBuckets; ++i) table[i] = i % kBackends;
  std::shuffle(table.begin(), table.end(), std::mt19937(7));
  std::vector<double> load(kBackends, 0);
  for (uint32_t i = 0; i < kBuckets; ++i) load[table[i]] += bucket_count[i];
  const double mean = double(flows.size()) / kBackends;
  double worst = 0;
  for (double l : load) worst = std::max(worst, std::abs(l - mean) / mean);
  return {chi / (kBuckets - 1), worst};
}

// Bounds a uniform random hash meets with room to spare: chi-square/df has mean 1 and standard
// deviation sqrt(2/df) = 0.0055, so 1.05 is 9 sigma; a backend's load (~1049 flows, Poisson
// with a little extra spread from the 65-vs-66 bucket shares) stays within ~5 sigma = 16%.
constexpr double kMaxChiSquarePerDf = 1.05;
constexpr double kMaxBackendDeviation = 0.20;

class FlowHashSpread : public testing::TestWithParam<Clients> {};

TEST_P(FlowHashSpread, LookupThreeSpreadsClientFlows) {
  const auto flows = client_flows(GetParam());
  const Spread s = measure_spread(
      flows, [](const FlowKey& f) { return flow_hash(f, kHash5Tuple, kDefaultHashSeed); });
  RecordProperty("chi_square_per_df", std::to_string(s.chi_square_per_df));
  RecordProperty("max_backend_deviation", std::to_string(s.max_backend_deviation));
  EXPECT_LT(s.chi_square_per_df, kMaxChiSquarePerDf);
  EXPECT_GT(s.chi_square_per_df, 0.95);  // suspiciously even would mean a broken measurement
  EXPECT_LT(s.max_backend_deviation, kMaxBackendDeviation);
}

INSTANTIATE_TEST_SUITE_P(Clients, FlowHashSpread,
                         testing::Values(Clients::kWholeSlash15, Clients::kOneSlash24));

// Negative control: the same measurement rejects a weak hash (the sum of the fields) on the
// clustered clients, proving the bounds above can fail.
TEST(FlowHashSpreadControl, SumOfFieldsFailsTheSameBounds) {
  const auto flows = client_flows(Clients::kOneSlash24);
  const Spread s = measure_spread(flows, [](const FlowKey& f) {
    return RAIL_NTOHL(f.raw.src[0]) + RAIL_NTOHL(f.raw.dst[0]) + f.src_port() + f.dst_port() +
           f.proto();
  });
  RecordProperty("chi_square_per_df", std::to_string(s.chi_square_per_df));
  RecordProperty("max_backend_deviation", std::to_string(s.max_backend_deviation));
  EXPECT_TRUE(s.chi_square_per_df > kMaxChiSquarePerDf ||
              s.max_backend_deviation > kMaxBackendDeviation)
      << "chi2/df " << s.chi_square_per_df << " max dev " << s.max_backend_deviation;
}

}  // namespace
}  // namespace rail
