// Source-list parsing for the traffic tools' command lines.
#include "tools/traffic/traffic_options.h"

#include <charconv>
#include <string>

namespace rail::traffic {
namespace {

using U128 = unsigned __int128;

U128 to_u128(const IpAddress& a) {
  U128 v = 0;
  for (size_t i = 0; i < a.size(); ++i) v = v << 8 | a.bytes()[i];
  return v;
}

IpAddress from_u128(U128 v, bool v4) {
  if (v4) return IpAddress::v4(uint32_t(v));
  std::array<uint8_t, 16> bytes{};
  for (int i = 15; i >= 0; --i) {
    bytes[size_t(i)] = uint8_t(v);
    v >>= 8;
  }
  return IpAddress::v6(bytes);
}

Error bad(std::string_view item, const std::string& why) {
  return make_error(ErrorCode::kInvalidArgument, "sources '" + std::string(item) + "': " + why);
}

Result<IpAddress> address_in(std::string_view item, std::string_view text) {
  auto a = IpAddress::parse(text);
  if (!a) return bad(item, "'" + std::string(text) + "' is not an IP address");
  return *a;
}

Status append_range(std::string_view item, const IpAddress& first, const IpAddress& last,
                    std::vector<IpAddress>& out) {
  if (first.family() != last.family()) return bad(item, "mixes IPv4 and IPv6");
  U128 lo = to_u128(first);
  U128 hi = to_u128(last);
  if (lo > hi) return bad(item, "first address is after the last");
  if (hi - lo >= U128(kMaxSources) || out.size() + size_t(hi - lo + 1) > kMaxSources) {
    return bad(item, "more than " + std::to_string(kMaxSources) + " addresses");
  }
  for (U128 v = lo;; ++v) {
    out.push_back(from_u128(v, first.is_v4()));
    if (v == hi) break;
  }
  return ok();
}

Status append_item(std::string_view item, std::vector<IpAddress>& out) {
  if (size_t dash = item.find('-'); dash != std::string_view::npos) {
    auto first = address_in(item, item.substr(0, dash));
    if (!first) return first.error();
    auto last = address_in(item, item.substr(dash + 1));
    if (!last) return last.error();
    return append_range(item, *first, *last, out);
  }
  if (size_t slash = item.find('/'); slash != std::string_view::npos) {
    auto base = address_in(item, item.substr(0, slash));
    if (!base) return base.error();
    std::string_view length_text = item.substr(slash + 1);
    unsigned length = 0;
    auto [end, ec] =
        std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    const unsigned bits = base->is_v4() ? 32 : 128;
    if (length_text.empty() || ec != std::errc() ||
        end != length_text.data() + length_text.size() || length > bits) {
      return bad(item, "prefix length must be 0.." + std::to_string(bits));
    }
    const unsigned host_bits = bits - length;
    if (host_bits >= 17)
      return bad(item, "more than " + std::to_string(kMaxSources) + " addresses");
    U128 mask = (U128(1) << host_bits) - 1;
    U128 network = to_u128(*base) & ~mask;
    return append_range(item, from_u128(network, base->is_v4()),
                        from_u128(network | mask, base->is_v4()), out);
  }
  auto single = address_in(item, item);
  if (!single) return single.error();
  return append_range(item, *single, *single, out);
}

}  // namespace

Result<std::vector<IpAddress>> parse_sources(std::string_view text) {
  std::vector<IpAddress> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (item.empty()) return bad(text, "empty item");
    RAIL_TRY(append_item(item, out));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return bad(item, "trailing comma");
  }
  return out;
}

}  // namespace rail::traffic
