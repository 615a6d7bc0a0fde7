// ApiServer: routes, authentication, and the JSON <-> Controller translation of each endpoint.
#include "daemon/api/api_server.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "daemon/api/json_views.h"
#include "daemon/api/metrics.h"

namespace rail::daemon {
namespace {

using nlohmann::json;
using Request = httplib::Request;
using Response = httplib::Response;

constexpr const char* kJson = "application/json";

void reply(Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", kJson);
}

void reply_error(Response& res, const Error& e) {
  reply(res, http_status(e.code), error_json(e));
}

Error bad_request(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

// The body as a JSON object, re-serialised compactly (the controller reads it as YAML, of
// which JSON is a subset; re-dumping removes tabs and oddities YAML would read differently).
Result<json> json_body(const Request& req) {
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad_request("request body is not valid JSON");
  if (!j.is_object()) return bad_request("request body must be a JSON object");
  return j;
}

Result<IpAddress> address_param(const std::string& text) {
  auto a = IpAddress::parse(text);
  if (!a) return bad_request("\"" + text + "\" is not an IPv4 or IPv6 address");
  return a;
}

}  // namespace

bool constant_time_equal(const std::string& a, const std::string& b) {
  // Length is not secret-dependent timing we can hide cheaply; compare all of `b` regardless.
  unsigned char diff = a.size() != b.size();
  for (size_t i = 0; i < b.size(); ++i) diff |= uint8_t(b[i] ^ (i < a.size() ? a[i] : 0));
  return diff == 0;
}

ApiServer::ApiServer(ApiOptions options, Controller& controller, EventLog& log)
    : options_(std::move(options)),
      controller_(controller),
      log_(log),
      server_(std::make_unique<httplib::Server>()) {}

ApiServer::~ApiServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<ApiServer>> ApiServer::start(ApiOptions options, Controller& controller,
                                                    EventLog& log) {
  std::unique_ptr<ApiServer> api(new ApiServer(std::move(options), controller, log));
  api->routes();
  const std::string& host = api->options_.host;
  int port = api->options_.port;
  if (port == 0) {
    port = api->server_->bind_to_any_port(host);
    if (port < 0) return make_error(ErrorCode::kSystem, "API: cannot listen on " + host);
  } else if (!api->server_->bind_to_port(host, port)) {
    return make_error(ErrorCode::kSystem, "API: cannot listen on " + host + ":" +
                                              std::to_string(port) +
                                              " (in use, or not a local address)");
  }
  api->port_ = uint16_t(port);
  api->thread_ = std::thread([server = api->server_.get()] { server->listen_after_bind(); });
  return api;
}

void ApiServer::routes() {
  httplib::Server& s = *server_;
  s.set_pre_routing_handler([this](const Request& req, Response& res) {
    if (options_.token.empty() || req.path == "/healthz" || req.path == "/readyz")
      return httplib::Server::HandlerResponse::Unhandled;
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (auth.rfind(prefix, 0) == 0 &&
        constant_time_equal(auth.substr(prefix.size()), options_.token))
      return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    reply(res, 401,
          error_json(make_error(ErrorCode::kPermission, "missing or wrong bearer token")));
    return httplib::Server::HandlerResponse::Handled;
  });
  s.set_exception_handler([](const Request&, Response& res, std::exception_ptr ep) {
    std::string what = "unexpected error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    reply(res, 500, error_json(make_error(ErrorCode::kInternal, what)));
  });
  s.set_error_handler([](const Request&, Response& res) {
    if (res.body.empty() && res.status == 404)
      reply(res, 404, error_json(make_error(ErrorCode::kNotFound, "no such endpoint")));
  });

  // Runs a change and answers {"ok": true} or the error (logged: a refused change matters).
  auto change = [this](Response& res, const std::string& what, const Status& st) {
    if (!st) {
      log_.warn("change_refused", {{"change", what}, {"error", st.error().message}});
      return reply_error(res, st.error());
    }
    reply(res, 200, {{"ok", true}});
  };

  s.Get("/healthz", [](const Request&, Response& res) { res.set_content("ok\n", "text/plain"); });
  s.Get("/readyz", [this](const Request&, Response& res) {
    const bool ready = options_.ready();
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
  });
  s.Get("/metrics", [this](const Request&, Response& res) {
    std::string text = render_metrics(controller_.vips(), controller_.node());
    if (options_.extra_metrics) text += options_.extra_metrics();
    res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
  });

  s.Get("/v1/vips", [this](const Request&, Response& res) {
    json vips = json::array();
    for (const VipView& v : controller_.vips()) vips.push_back(to_json(v));
    reply(res, 200, {{"vips", vips}});
  });
  s.Get(R"(/v1/vips/([^/]+))", [this](const Request& req, Response& res) {
    auto v = controller_.vip(req.matches[1]);
    if (!v) return reply_error(res, v.error());
    reply(res, 200, to_json(*v));
  });
  s.Post("/v1/vips", [this, change](const Request& req, Response& res) {
    auto body = json_body(req);
    if (!body) return reply_error(res, body.error());
    change(res, "add vip", controller_.add_vip(body->dump()));
  });
  s.Delete(R"(/v1/vips/([^/]+))", [this, change](const Request& req, Response& res) {
    change(res, "remove vip " + req.matches[1].str(), controller_.remove_vip(req.matches[1]));
  });
  s.Post(R"(/v1/pools/([^/]+)/backends)", [this, change](const Request& req, Response& res) {
    auto body = json_body(req);
    if (!body) return reply_error(res, body.error());
    change(res, "add backend", controller_.add_backend(req.matches[1], body->dump()));
  });
  s.Delete(R"(/v1/pools/([^/]+)/backends/([^/]+))",
           [this, change](const Request& req, Response& res) {
             auto a = address_param(req.matches[2]);
             if (!a) return reply_error(res, a.error());
             change(res, "remove backend", controller_.remove_backend(req.matches[1], *a));
           });
  s.Put(R"(/v1/pools/([^/]+)/backends/([^/]+)/weight)",
        [this, change](const Request& req, Response& res) {
          auto a = address_param(req.matches[2]);
          if (!a) return reply_error(res, a.error());
          auto body = json_body(req);
          if (!body) return reply_error(res, body.error());
          const json& w = (*body)["weight"];
          if (!w.is_number_unsigned())
            return reply_error(res, bad_request("\"weight\" must be a whole number 0..65535"));
          change(res, "set weight", controller_.set_weight(req.matches[1], *a, w.get<uint32_t>()));
        });
  for (const bool drain : {true, false}) {
    s.Post(std::string(R"(/v1/pools/([^/]+)/backends/([^/]+)/)") + (drain ? "drain" : "undrain"),
           [this, change, drain](const Request& req, Response& res) {
             auto a = address_param(req.matches[2]);
             if (!a) return reply_error(res, a.error());
             change(res, drain ? "drain" : "undrain",
                    controller_.set_drained(req.matches[1], *a, drain));
           });
  }
  s.Post(R"(/v1/pools/([^/]+)/backends/([^/]+)/force)",
         [this, change](const Request& req, Response& res) {
           auto a = address_param(req.matches[2]);
           if (!a) return reply_error(res, a.error());
           auto body = json_body(req);
           if (!body) return reply_error(res, body.error());
           const json& st = (*body)["state"];
           std::optional<BackendState> state;
           if (st == "up") {
             state = BackendState::kUp;
           } else if (st == "down") {
             state = BackendState::kDown;
           } else if (st != "none") {
             return reply_error(res, bad_request("\"state\" must be \"up\", \"down\" or \"none\""));
           }
           change(res, "force", controller_.force(req.matches[1], *a, state));
         });
  s.Post("/v1/reload", [change, this](const Request&, Response& res) {
    change(res, "reload", controller_.reload());
  });
}

}  // namespace rail::daemon
