// api_client: cpp-httplib requests to raild, the bearer token, and error reporting. httplib may
// throw (it does for some malformed input); everything it does is inside a try here.
#include "tools/railctl/api_client.h"

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace rail::railctl {
namespace {

using nlohmann::json;

struct Endpoint {
  std::string host;
  int port = 9180;
};

// "http://HOST[:PORT][/]" or "HOST[:PORT]"; HOST may be "[v6]". Parsed here rather than by
// httplib so a bad URL is a clear usage error instead of an exception or a silent no-op.
Result<Endpoint> parse_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument, "--api \"" + url + "\": " + why);
  };
  std::string rest = url;
  if (const auto scheme = rest.find("://"); scheme != std::string::npos) {
    if (rest.substr(0, scheme) != "http") return bad("only http:// is supported");
    rest = rest.substr(scheme + 3);
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return bad("a path is not allowed");
  Endpoint e;
  std::string port;
  if (!rest.empty() && rest[0] == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) return bad("unclosed [");
    e.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return bad("expected :PORT after ]");
      port = rest.substr(close + 2);
    }
  } else if (const auto colon = rest.find(':'); colon != std::string::npos) {
    e.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    e.host = rest;
  }
  if (e.host.empty()) return bad("no host");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
      return bad("bad port");
    e.port = std::stoi(port);
    if (e.port < 1 || e.port > 65535) return bad("port out of range 1..65535");
  }
  return e;
}

Result<std::string> read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return make_error(ErrorCode::kInvalidArgument,
                      "cannot read token file " + path + ": " + std::strerror(errno));
  std::stringstream s;
  s << in.rdbuf();
  std::string token = s.str();
  // Files usually end in a newline the token does not contain.
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty())
    return make_error(ErrorCode::kInvalidArgument, "token file " + path + " is empty");
  return token;
}

// httplib reports "Could not establish connection" without the reason; operators need to tell
// "nothing listens" from "no route" or "timed out", so repeat the connect to learn its errno.
std::string connect_reason(const Endpoint& e, double timeout_seconds) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(e.port);
  if (const int rc = ::getaddrinfo(e.host.c_str(), port.c_str(), &hints, &list); rc != 0)
    return gai_strerror(rc);
  std::string reason = "connection failed";
  for (addrinfo* a = list; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int err = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        const int n = ::poll(&p, 1, static_cast<int>(timeout_seconds * 1000));
        socklen_t len = sizeof(err);
        if (n == 0) {
          err = ETIMEDOUT;
        } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
      }
    }
    ::close(fd);
    if (err == 0) {
      reason = "connected, but the request failed";
      break;
    }
    reason = std::strerror(err);
  }
  ::freeaddrinfo(list);
  return reason;
}

std::string error_text(httplib::Error error) {
  return httplib::to_string(error);
}

}  // namespace

std::string url_segment(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string backend_path(const std::string& pool, const std::string& address) {
  return "/v1/pools/" + url_segment(pool) + "/backends/" + url_segment(address);
}

Result<ApiResponse> api_request(const ApiSettings& settings, const std::string& method,
                                const std::string& path, const std::string& body) {
  auto endpoint = parse_url(settings.url);
  if (!endpoint) return endpoint.error();
  std::string token;
  if (!settings.token_file.empty()) {
    auto t = read_token(settings.token_file);
    if (!t) return t.error();
    token = *t;
  }
  try {
    httplib::Client client(endpoint->host, endpoint->port);
    const auto whole = static_cast<time_t>(settings.timeout_seconds);
    const auto micros = static_cast<time_t>((settings.timeout_seconds - whole) * 1e6);
    client.set_connection_timeout(whole, micros);
    client.set_read_timeout(whole, micros);
    client.set_write_timeout(whole, micros);
    if (!token.empty()) client.set_bearer_token_auth(token);
    const char* type = "application/json";
    httplib::Result r = method == "GET"      ? client.Get(path)
                        : method == "DELETE" ? client.Delete(path)
                        : method == "PUT"    ? client.Put(path, body, type)
                                             : client.Post(path, body, type);
    if (!r) {
      std::string reason = r.error() == httplib::Error::Connection
                               ? connect_reason(*endpoint, settings.timeout_seconds)
                               : error_text(r.error());
      return make_error(ErrorCode::kSystem,
                        "cannot reach raild at " + settings.url + ": " + reason);
    }
    return ApiResponse{r->status, r->body};
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kSystem, "request to " + settings.url + " failed: " + e.what());
  }
}

int report_failure(const Error& error) {
  std::fprintf(stderr, "error: %s\n", error.message.c_str());
  return error.code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

int report_api_error(const ApiSettings& settings, const ApiResponse& response) {
  const json j = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  const std::string status = "HTTP " + std::to_string(response.status);
  std::string summary = status;
  if (j.is_object() && j.contains("error") && j["error"].is_string())
    summary = j["error"].get<std::string>() + " (" + status + ")";
  if (settings.json && !j.is_discarded()) print_json(j);
  std::fprintf(stderr, "error: %s\n", summary.c_str());
  // The details are printed unless they only repeat the summary.
  if (j.is_object() && j.contains("details") && j["details"].is_array()) {
    const json& details = j["details"];
    if (!(details.size() == 1 && details[0] == j["error"])) {
      for (const json& d : details)
        std::fprintf(stderr, "  %s\n",
                     d.is_string() ? d.get<std::string>().c_str() : d.dump().c_str());
    }
  }
  return kExitFailure;
}

Result<json> api_call(const ApiSettings& settings, const std::string& method,
                      const std::string& path, int& exit_code, const std::string& body) {
  auto r = api_request(settings, method, path, body);
  if (!r) {
    exit_code = report_failure(r.error());
    return r.error();
  }
  if (r->status < 200 || r->status >= 300) {
    exit_code = report_api_error(settings, *r);
    return make_error(ErrorCode::kInvalidArgument, "HTTP " + std::to_string(r->status));
  }
  json j = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return json(r->body);
  return j;
}

int api_change(const ApiSettings& settings, const std::string& method, const std::string& path,
               const std::string& body, const std::string& done) {
  int code = kExitOk;
  auto j = api_call(settings, method, path, code, body);
  if (!j) return code;
  if (settings.json) {
    print_json(*j);
  } else {
    std::printf("%s\n", done.c_str());
  }
  return kExitOk;
}

void print_json(const json& j) {
  std::printf("%s\n", j.dump(2).c_str());
}

}  // namespace rail::railctl
