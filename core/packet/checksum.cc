// RFC 1071 Internet checksum and pseudo-header sums (see checksum.h for the conventions).
#include "core/packet/checksum.h"

namespace rail::packet {

uint32_t checksum_add(std::span<const uint8_t> bytes, uint32_t sum) {
  const size_t n = bytes.size();
  const uint8_t* p = bytes.data();
  // 64-bit accumulator so a whole jumbo frame never overflows before the final fold.
  uint64_t acc = sum;
  size_t i = 0;
  for (; i + 1 < n; i += 2) acc += static_cast<uint32_t>(p[i]) << 8 | p[i + 1];
  if (i < n) acc += static_cast<uint32_t>(p[i]) << 8;
  while (acc >> 32) acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
  return static_cast<uint32_t>(acc);
}

uint16_t ipv4_header_checksum(std::span<const uint8_t> header) {
  uint32_t sum = checksum_add(header.first(10));
  return checksum_finish(checksum_add(header.subspan(12), sum));
}

uint32_t pseudo_header_sum_v4(const uint8_t src[4], const uint8_t dst[4], uint8_t protocol,
                              uint16_t l4_length) {
  uint32_t sum = checksum_add({src, 4});
  sum = checksum_add({dst, 4}, sum);
  return sum + protocol + l4_length;
}

uint32_t pseudo_header_sum_v6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                              uint32_t upper_length) {
  uint32_t sum = checksum_add({src, 16});
  sum = checksum_add({dst, 16}, sum);
  return sum + (upper_length >> 16) + (upper_length & 0xFFFF) + next_header;
}

uint16_t l4_checksum(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                     std::span<const uint8_t> segment) {
  uint32_t sum = src.is_v4() ? pseudo_header_sum_v4(src.data(), dst.data(), protocol,
                                                    static_cast<uint16_t>(segment.size()))
                             : pseudo_header_sum_v6(src.data(), dst.data(), protocol,
                                                    static_cast<uint32_t>(segment.size()));
  return checksum_finish(checksum_add(segment, sum));
}

}  // namespace rail::packet
