// ApiTestServer: raild's HTTP API on an ephemeral 127.0.0.1 port over a ControllerWorld, for
// the API tests (httplib client) and the railctl tests (the real railctl binary).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "controller_test_world.h"
#include "daemon/api/api_server.h"

namespace rail::daemon::testing {

struct ApiTestServer {
  // An empty `token` serves without authentication.
  explicit ApiTestServer(std::string token = "") {
    ApiOptions options;
    options.port = 0;  // the kernel picks a free port: parallel test runs never collide
    options.token = std::move(token);
    auto s = ApiServer::start(options, world.c(), log);
    EXPECT_TRUE(s) << s.error().message;
    if (s) server = std::move(*s);
  }
  uint16_t port() const { return server ? server->port() : 0; }

  ControllerWorld world;
  EventLog log{LogLevel::kError};
  std::unique_ptr<ApiServer> server;
};

}  // namespace rail::daemon::testing
