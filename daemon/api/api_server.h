// ApiServer: raild's runtime API over HTTP + JSON (cpp-httplib), documented in docs/api.md.
//
// Listens on loopback by default. With a token, every request but /healthz and /readyz needs
// `Authorization: Bearer <token>` (compared in constant time). Handlers translate between
// JSON and Controller calls; all validation and atomicity is the controller's. cpp-httplib
// and nlohmann::json exceptions stop here: a request can fail, the server cannot.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/result.h"
#include "daemon/controller/controller.h"
#include "daemon/controller/event_log.h"

namespace httplib {
class Server;
}

namespace rail::daemon {

struct ApiOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 9180;  // 0 = any free port (tests)
  std::string token;     // empty = no authentication
  // /readyz: the data plane is attached and a config loaded (raild decides).
  std::function<bool()> ready = [] { return true; };
  // Appended to /metrics (complete families in the exposition format), e.g. raild's ICMP
  // listener counters; empty = nothing.
  std::function<std::string()> extra_metrics;
};

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> start(ApiOptions options, Controller& controller,
                                                  EventLog& log);
  ~ApiServer();  // stops listening and joins the server thread
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  ApiServer(ApiOptions options, Controller& controller, EventLog& log);
  void routes();

  ApiOptions options_;
  Controller& controller_;
  EventLog& log_;
  std::unique_ptr<httplib::Server> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

// Constant-time equality (the time taken does not depend on where the strings differ).
bool constant_time_equal(const std::string& a, const std::string& b);

}  // namespace rail::daemon
