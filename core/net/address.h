// IpAddress and MacAddress: small value types for IPv4/IPv6 and Ethernet addresses.
//
// Bytes are kept in network order, as on the wire. Parsing never throws: it returns a Result
// whose error names the bad text.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/result.h"

namespace rail {

class IpAddress {
 public:
  enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

  IpAddress() = default;  // 0.0.0.0
  // Inline, and each writes the 16 address bytes as one array: the packet parser builds
  // addresses per packet, and bytes stored one at a time (out of line) made the next 16-byte
  // load of the address wait on a failed store-to-load forward (~10 ns per address).
  static IpAddress v4(std::array<uint8_t, 4> bytes) {
    std::array<uint8_t, 16> all{};
    std::memcpy(all.data(), bytes.data(), 4);
    return IpAddress(Family::kV4, all);
  }
  static IpAddress v4(uint32_t host_order) {
    return v4({uint8_t(host_order >> 24), uint8_t(host_order >> 16), uint8_t(host_order >> 8),
               uint8_t(host_order)});
  }
  static IpAddress v6(std::array<uint8_t, 16> bytes) { return IpAddress(Family::kV6, bytes); }
  // Accepts dotted quad or RFC 4291 text (with "::"); no zone ids, no brackets.
  static Result<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  // 4 meaningful bytes for IPv4 (the rest zero), 16 for IPv6.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return is_v4() ? 4 : 16; }
  uint32_t v4_host_order() const;
  // RFC 5952 canonical text ("2001:db8::1"), dotted quad for IPv4.
  std::string to_string() const;

  auto operator<=>(const IpAddress&) const = default;

 private:
  IpAddress(Family family, const std::array<uint8_t, 16>& bytes) : family_(family), bytes_(bytes) {}

  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

class MacAddress {
 public:
  MacAddress() = default;  // 00:00:00:00:00:00 (means "unknown" in configs)
  explicit MacAddress(std::array<uint8_t, 6> bytes) : bytes_(bytes) {}
  static Result<MacAddress> parse(std::string_view text);  // "02:00:00:00:00:01"

  const std::array<uint8_t, 6>& bytes() const { return bytes_; }
  const uint8_t* data() const { return bytes_.data(); }
  bool is_zero() const { return bytes_ == std::array<uint8_t, 6>{}; }
  std::string to_string() const;

  auto operator<=>(const MacAddress&) const = default;

 private:
  std::array<uint8_t, 6> bytes_{};
};

}  // namespace rail
