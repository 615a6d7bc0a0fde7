// Internet checksum tests: RFC 1071 example, a hand-summed IPv4 header, pseudo-headers against a
// naive reference, and RFC 1624 incremental updates against full recomputation.
#include "core/packet/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace rail::packet {
namespace {

// Naive reference, written differently on purpose: end-around carry after every word.
uint16_t reference_checksum(const std::vector<uint8_t>& bytes) {
  uint32_t sum = 0;
  for (size_t i = 0; i < bytes.size(); i += 2) {
    uint32_t word = uint32_t(bytes[i]) << 8;
    if (i + 1 < bytes.size()) word |= bytes[i + 1];
    sum += word;
    if (sum > 0xFFFF) sum = (sum & 0xFFFF) + 1;
  }
  return static_cast<uint16_t>(~sum & 0xFFFF);
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 have the one's complement sum 0xddf2, so the
  // checksum (its complement) is 0x220d.
  const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_finish(checksum_add(bytes)), 0x220d);
  EXPECT_EQ(static_cast<uint16_t>(~checksum_finish(checksum_add(bytes))), 0xddf2);
}

TEST(Checksum, RealIpv4Header) {
  // A captured IPv4/UDP header 192.168.0.1 -> 192.168.0.199, carrying checksum 0xb861. By hand:
  // 4500+0073+0000+4000+4011+c0a8+0001+c0a8+00c7 = 0x2479c; fold 0x479c+2 = 0x479e; ~ = 0xb861.
  const uint8_t header[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(ipv4_header_checksum(header), 0xb861);
  EXPECT_EQ(internet_checksum(header), 0);  // a correct header verifies to 0
  uint8_t corrupted[sizeof header];
  std::copy(std::begin(header), std::end(header), corrupted);
  corrupted[8] = 0x3f;  // TTL 63: the stored checksum no longer verifies
  EXPECT_NE(internet_checksum(corrupted), 0);
}

TEST(Checksum, OddLengthPadsWithZero) {
  const uint8_t odd[] = {0x12, 0x34, 0x56};
  const uint8_t even[] = {0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(internet_checksum(odd), internet_checksum(even));
  EXPECT_EQ(internet_checksum(odd), static_cast<uint16_t>(~(0x1234 + 0x5600)));
}

TEST(Checksum, MatchesReferenceOnRandomAndLargeBuffers) {
  std::mt19937 rng(1071);
  for (size_t len : {0u, 1u, 2u, 3u, 20u, 1499u, 9000u, 65535u}) {
    std::vector<uint8_t> bytes(len);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    EXPECT_EQ(internet_checksum(bytes), reference_checksum(bytes)) << len;
  }
  std::vector<uint8_t> ones(65536, 0xFF);  // worst case for carries
  EXPECT_EQ(internet_checksum(ones), reference_checksum(ones));
}

TEST(Checksum, PseudoHeadersMatchExplicitConcatenation) {
  std::mt19937 rng(768);
  std::vector<uint8_t> segment(37);
  for (auto& b : segment) b = static_cast<uint8_t>(rng());
  const IpAddress s4 = IpAddress::v4(0xC6120001), d4 = IpAddress::v4(0xCB00710A);
  // RFC 768 / 793: src(4) dst(4) zero proto length(2).
  std::vector<uint8_t> v4 = {0xC6, 0x12, 0x00, 0x01, 0xCB, 0x00, 0x71, 0x0A, 0, 17, 0, 37};
  v4.insert(v4.end(), segment.begin(), segment.end());
  EXPECT_EQ(l4_checksum(s4, d4, 17, segment), reference_checksum(v4));

  std::array<uint8_t, 16> a{}, b{};
  for (auto& x : a) x = static_cast<uint8_t>(rng());
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  // RFC 8200 §8.1: src(16) dst(16) length(4) zero(3) next header(1).
  std::vector<uint8_t> v6(a.begin(), a.end());
  v6.insert(v6.end(), b.begin(), b.end());
  for (uint8_t x : {0, 0, 0, 37, 0, 0, 0, 58}) v6.push_back(x);
  v6.insert(v6.end(), segment.begin(), segment.end());
  EXPECT_EQ(l4_checksum(IpAddress::v6(a), IpAddress::v6(b), 58, segment), reference_checksum(v6));
}

TEST(Checksum, IncrementalUpdateEqualsFullRecompute) {
  std::mt19937 rng(1624);
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> data(24);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    const uint16_t before = internet_checksum(data);
    const size_t at = 2 * (rng() % 10);  // a 16-bit aligned field, 32 bits wide at most
    if (iter % 2 == 0) {
      const uint16_t old_value = uint16_t(data[at] << 8 | data[at + 1]);
      const uint16_t new_value = static_cast<uint16_t>(rng());
      data[at] = uint8_t(new_value >> 8);
      data[at + 1] = uint8_t(new_value);
      ASSERT_EQ(checksum_update16(before, old_value, new_value), internet_checksum(data));
    } else {
      const uint32_t old_value = uint32_t(data[at]) << 24 | uint32_t(data[at + 1]) << 16 |
                                 uint32_t(data[at + 2]) << 8 | data[at + 3];
      const uint32_t new_value = rng();
      for (int k = 0; k < 4; ++k) data[at + k] = uint8_t(new_value >> (24 - 8 * k));
      ASSERT_EQ(checksum_update32(before, old_value, new_value), internet_checksum(data));
    }
  }
}

TEST(Checksum, IncrementalUpdateOnIcmpEchoTypeChange) {
  // packet-path.md §8: echo request -> reply changes the type byte (first word 0x0800 -> 0x0000).
  std::vector<uint8_t> icmp = {8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g'};
  const uint16_t request_csum = internet_checksum(icmp);
  icmp[0] = 0;
  EXPECT_EQ(checksum_update16(request_csum, 0x0800, 0x0000), internet_checksum(icmp));
}

}  // namespace
}  // namespace rail::packet
