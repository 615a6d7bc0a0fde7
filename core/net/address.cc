// Parsing and formatting of IP and MAC addresses, without libc's inet_* (core makes no OS calls).
#include "core/net/address.h"

#include <cstdio>
#include <vector>

namespace rail {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_v4(std::string_view s, std::array<uint8_t, 4>& out) {
  int part = 0;
  size_t i = 0;
  while (part < 4) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    unsigned value = 0;
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits > 0 && value == 0) return false;  // no leading zeros ("01")
      value = value * 10 + unsigned(s[i] - '0');
      if (value > 255 || ++digits > 3) return false;
      ++i;
    }
    out[part++] = uint8_t(value);
    if (part < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

// Parses groups of hex words separated by ':'; an embedded IPv4 tail is allowed at the end.
bool parse_groups(std::string_view s, std::vector<uint16_t>& out, bool allow_v4_tail) {
  if (s.empty()) return true;
  size_t i = 0;
  while (true) {
    size_t j = s.find(':', i);
    std::string_view g = s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (j == std::string_view::npos && allow_v4_tail && g.find('.') != std::string_view::npos) {
      std::array<uint8_t, 4> v4{};
      if (!parse_v4(g, v4)) return false;
      out.push_back(uint16_t(v4[0] << 8 | v4[1]));
      out.push_back(uint16_t(v4[2] << 8 | v4[3]));
      return true;
    }
    if (g.empty() || g.size() > 4) return false;
    unsigned value = 0;
    for (char c : g) {
      int h = hex_value(c);
      if (h < 0) return false;
      value = value << 4 | unsigned(h);
    }
    out.push_back(uint16_t(value));
    if (j == std::string_view::npos) return true;
    i = j + 1;
  }
}

bool parse_v6(std::string_view s, std::array<uint8_t, 16>& out) {
  std::vector<uint16_t> head, tail;
  size_t dc = s.find("::");
  if (dc != std::string_view::npos) {
    if (s.find("::", dc + 1) != std::string_view::npos) return false;
    if (!parse_groups(s.substr(0, dc), head, false)) return false;
    if (!parse_groups(s.substr(dc + 2), tail, true)) return false;
    if (head.size() + tail.size() > 7) return false;
  } else {
    if (!parse_groups(s, head, true) || head.size() != 8) return false;
  }
  std::array<uint16_t, 8> words{};
  for (size_t k = 0; k < head.size(); ++k) words[k] = head[k];
  for (size_t k = 0; k < tail.size(); ++k) words[8 - tail.size() + k] = tail[k];
  for (size_t k = 0; k < 8; ++k) {
    out[2 * k] = uint8_t(words[k] >> 8);
    out[2 * k + 1] = uint8_t(words[k]);
  }
  return true;
}

}  // namespace

Result<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    std::array<uint8_t, 16> b{};
    if (parse_v6(text, b)) return v6(b);
  } else {
    std::array<uint8_t, 4> b{};
    if (parse_v4(text, b)) return v4(b);
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "'" + std::string(text) + "' is not an IPv4 or IPv6 address");
}

uint32_t IpAddress::v4_host_order() const {
  return uint32_t(bytes_[0]) << 24 | uint32_t(bytes_[1]) << 16 | uint32_t(bytes_[2]) << 8 |
         bytes_[3];
}

std::string IpAddress::to_string() const {
  char buf[64];
  if (is_v4()) {  // by hand: snprintf was a visible cost of applying 1000-backend configs
    char* p = buf;
    for (int k = 0; k < 4; ++k) {
      const unsigned v = bytes_[k];
      if (k) *p++ = '.';
      if (v >= 100) *p++ = char('0' + v / 100);
      if (v >= 10) *p++ = char('0' + v / 10 % 10);
      *p++ = char('0' + v % 10);
    }
    return std::string(buf, p);
  }
  uint16_t w[8];
  for (int k = 0; k < 8; ++k) w[k] = uint16_t(bytes_[2 * k] << 8 | bytes_[2 * k + 1]);
  // RFC 5952: compress the longest run (>= 2) of zero words, the first one on a tie.
  int best = -1, best_len = 0;
  for (int k = 0; k < 8;) {
    if (w[k] != 0) {
      ++k;
      continue;
    }
    int j = k;
    while (j < 8 && w[j] == 0) ++j;
    if (j - k > best_len && j - k >= 2) best = k, best_len = j - k;
    k = j;
  }
  std::string out;
  for (int k = 0; k < 8; ++k) {
    if (k == best) {
      out += "::";
      k += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", w[k]);
    out += buf;
  }
  return out;
}

Result<MacAddress> MacAddress::parse(std::string_view text) {
  std::array<uint8_t, 6> b{};
  if (text.size() != 17) goto bad;
  for (size_t k = 0; k < 6; ++k) {
    int hi = hex_value(text[3 * k]), lo = hex_value(text[3 * k + 1]);
    if (hi < 0 || lo < 0 || (k < 5 && text[3 * k + 2] != ':')) goto bad;
    b[k] = uint8_t(hi << 4 | lo);
  }
  return MacAddress(b);
bad:
  return make_error(ErrorCode::kInvalidArgument,
                    "'" + std::string(text) + "' is not a MAC address (want aa:bb:cc:dd:ee:ff)");
}

std::string MacAddress::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1], bytes_[2],
                bytes_[3], bytes_[4], bytes_[5]);
  return buf;
}

}  // namespace rail
