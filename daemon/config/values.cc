// Scalar parsers for rail.yaml values; errors quote the text and say what is accepted.
#include "daemon/config/values.h"

#include <charconv>
#include <string>

namespace rail::daemon {
namespace {

Error bad(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

}  // namespace

Result<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max) {
  std::string_view digits = text;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (digits.empty() || end != digits.data() + digits.size() || ec == std::errc::invalid_argument)
    return bad(quoted(text) + " is not a whole number");
  if (ec == std::errc::result_out_of_range || v < min || v > max)
    return make_error(ErrorCode::kOutOfRange, std::string(text) + " is outside " +
                                                  std::to_string(min) + ".." + std::to_string(max));
  return v;
}

Result<uint16_t> parse_port_or_any(std::string_view text) {
  if (text == "any") return uint16_t(0);
  auto v = parse_uint(text, 0, 65535);
  if (!v) return bad(std::string(text) + " is not a port (0..65535 or \"any\")");
  return uint16_t(*v);
}

Result<bool> parse_bool(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return bad(quoted(text) + " is not true or false");
}

Result<ListenAddress> parse_listen(std::string_view text) {
  auto fail = [&] {
    return bad(quoted(text) + " is not ADDRESS:PORT (e.g. \"127.0.0.1:9180\", \"[::1]:9180\")");
  };
  std::string_view host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail();
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return fail();
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto addr = IpAddress::parse(host);
  auto p = parse_uint(port, 1, 65535);
  if (!addr || !p) return fail();
  if (addr->is_v6() && text[0] != '[') return fail();
  return ListenAddress{*addr, uint16_t(*p)};
}

std::string format_listen(const ListenAddress& l) {
  std::string a = l.address.to_string();
  return (l.address.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(l.port);
}

}  // namespace rail::daemon
