// Tests for SipHash-2-4 against the authors' published reference vectors.
#include "core/maglev/siphash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace rail {
namespace {

// The reference setting of the SipHash paper (Appendix A) and of the authors' vectors.h:
// key = 00 01 .. 0f, message of length n = 00 01 .. (n-1).
SipHashKey reference_key() {
  SipHashKey key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  return key;
}

std::vector<uint8_t> reference_message(size_t length) {
  std::vector<uint8_t> message(length);
  for (size_t i = 0; i < length; ++i) message[i] = static_cast<uint8_t>(i);
  return message;
}

// Expected values: the tags of the authors' vectors.h table `vectors_sip64` (printed there as
// 8 bytes, least significant first), read here as little-endian uint64_t. The 15-byte value
// a129ca6149be45e5 is also the worked example of the paper's Appendix A.
struct Vector {
  size_t length;
  uint64_t tag;
};
constexpr Vector kReferenceVectors[] = {
    {0, 0x726fdb47dd0e0e31ULL},   // 31 0e 0e dd 47 db 6f 72
    {1, 0x74f839c593dc67fdULL},   // fd 67 dc 93 c5 39 f8 74
    {7, 0xab0200f58b01d137ULL},   // 37 d1 01 8b f5 00 02 ab (one byte short of a word)
    {8, 0x93f5f5799a932462ULL},   // 62 24 93 9a 79 f5 f5 93 (exactly one word)
    {15, 0xa129ca6149be45e5ULL},  // e5 45 be 49 61 ca 29 a1 (paper, Appendix A)
    {16, 0x3f2acc7f57c29bdbULL},  // db 9b c2 57 7f cc 2a 3f (two words)
};

TEST(SipHash24, MatchesReferenceVectors) {
  for (const Vector& v : kReferenceVectors) {
    EXPECT_EQ(siphash24(reference_key(), reference_message(v.length)), v.tag)
        << "message length " << v.length;
  }
}

TEST(SipHash24, StringOverloadHashesTheSameBytes) {
  const std::vector<uint8_t> bytes = reference_message(15);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  EXPECT_EQ(siphash24(reference_key(), text), 0xa129ca6149be45e5ULL);
}

TEST(SipHash24, KeyAndMessageBothMatter) {
  SipHashKey other = reference_key();
  other[15] ^= 1;
  EXPECT_NE(siphash24(other, reference_message(15)), 0xa129ca6149be45e5ULL);
  std::vector<uint8_t> message = reference_message(15);
  message[0] ^= 1;
  EXPECT_NE(siphash24(reference_key(), message), 0xa129ca6149be45e5ULL);
  // Length is part of the input: a trailing zero byte changes the tag.
  std::vector<uint8_t> longer = reference_message(15);
  longer.push_back(0);
  EXPECT_NE(siphash24(reference_key(), longer), 0xa129ca6149be45e5ULL);
}

}  // namespace
}  // namespace rail
