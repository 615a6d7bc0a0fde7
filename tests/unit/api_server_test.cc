// The runtime API over real HTTP on 127.0.0.1 (a free port): status codes, bearer token, bad
// JSON, unknown names, changes reaching the data plane, and /metrics under promtool.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api_test_server.h"
#include "controller_test_world.h"
#include "daemon/api/api_server.h"
#include "daemon/api/metrics.h"

namespace rail::daemon::testing {
namespace {

using nlohmann::json;

struct ApiWorld : ApiTestServer {
  explicit ApiWorld(std::string token = "")
      : ApiTestServer(std::move(token)),
        client(std::make_unique<httplib::Client>("127.0.0.1", port())) {}
  std::unique_ptr<httplib::Client> client;
};

json body(const httplib::Result& r) {
  return json::parse(r->body, nullptr, false);
}

TEST(ApiServer, ListsAndGetsVipsWithBackends) {
  ApiWorld a;
  auto r = a.client->Get("/v1/vips");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const json j = body(r);
  ASSERT_EQ(j["vips"].size(), 1u);
  EXPECT_EQ(j["vips"][0]["name"], "www");
  EXPECT_EQ(j["vips"][0]["backends"].size(), 3u);
  EXPECT_EQ(j["vips"][0]["backends"][0]["health"], "unchecked");
  r = a.client->Get("/v1/vips/www");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body(r)["up"], 3);
  r = a.client->Get("/v1/vips/nope");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body(r)["error"], "no VIP named \"nope\"");
  EXPECT_EQ(a.client->Get("/v1/nothing")->status, 404);
}

TEST(ApiServer, ChangesReachTheDataPlane) {
  ApiWorld a;
  const std::string be = "/v1/pools/web/backends/198.18.1.2";
  EXPECT_EQ(a.client->Post(be + "/drain", "", "application/json")->status, 200);
  EXPECT_EQ(a.world.spread().count("198.18.1.2"), 0u);
  EXPECT_EQ(body(a.client->Get("/v1/vips/www"))["backends"][1]["drained"], true);
  EXPECT_EQ(a.client->Post(be + "/undrain", "", "application/json")->status, 200);
  EXPECT_EQ(a.client->Post(be + "/force", R"({"state":"down"})", "application/json")->status, 200);
  EXPECT_EQ(a.world.spread().count("198.18.1.2"), 0u);
  EXPECT_EQ(a.client->Post(be + "/force", R"({"state":"none"})", "application/json")->status, 200);
  EXPECT_EQ(a.client->Put(be + "/weight", R"({"weight": 0})", "application/json")->status, 200);
  EXPECT_EQ(a.world.spread().count("198.18.1.2"), 0u);
  EXPECT_EQ(
      a.client->Post("/v1/pools/web/backends", R"({"address":"198.18.1.4"})", "application/json")
          ->status,
      200);
  EXPECT_EQ(a.world.spread().count("198.18.1.4"), 1u);
  EXPECT_EQ(a.client->Delete("/v1/pools/web/backends/198.18.1.4")->status, 200);
  auto r = a.client->Post("/v1/vips",
                          R"({"name":"api","address":"198.18.100.3","port":443,"pool":"web"})",
                          "application/json");
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body(a.client->Get("/v1/vips"))["vips"].size(), 2u);
  EXPECT_EQ(a.client->Delete("/v1/vips/api")->status, 200);
  EXPECT_EQ(a.client->Post("/v1/reload", "", "application/json")->status, 200);
}

TEST(ApiServer, BadInputIs400WithDetailsAndChangesNothing) {
  ApiWorld a;
  const DaemonConfig before = a.world.c().config();
  auto r = a.client->Post("/v1/vips", "{not json", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(body(r)["error"], "request body is not valid JSON");
  r = a.client->Post("/v1/vips", R"({"name":"x","address":"198.18.100.9","port":70000,
      "table_size":100,"pool":"web"})",
                     "application/json");
  EXPECT_EQ(r->status, 400);
  const json j = body(r);
  EXPECT_EQ(j["details"].size(), 2u) << r->body;
  EXPECT_EQ(j["error"], "2 problems; nothing was changed");
  const std::string be = "/v1/pools/web/backends/198.18.1.2";
  EXPECT_EQ(a.client->Put(be + "/weight", R"({"weight": -1})", "application/json")->status, 400);
  EXPECT_EQ(a.client->Put(be + "/weight", R"({"weight": 70000})", "application/json")->status, 400);
  EXPECT_EQ(a.client->Post(be + "/force", R"({"state":"sideways"})", "application/json")->status,
            400);
  EXPECT_EQ(
      a.client->Post("/v1/pools/web/backends/not-an-ip/drain", "", "application/json")->status,
      400);
  EXPECT_EQ(
      a.client->Post("/v1/pools/nope/backends/198.18.1.2/drain", "", "application/json")->status,
      404);
  EXPECT_EQ(
      a.client->Post("/v1/pools/web/backends/198.18.9.9/drain", "", "application/json")->status,
      404);
  EXPECT_EQ(a.client->Delete("/v1/vips/nope")->status, 404);
  EXPECT_EQ(
      a.client->Post("/v1/pools/web/backends", R"({"address":"198.18.1.1"})", "application/json")
          ->status,
      409);
  EXPECT_EQ(a.world.c().config(), before);
  EXPECT_TRUE(a.world.c().runtime().drained.empty());
}

TEST(ApiServer, BearerTokenGuardsAllButProbes) {
  ApiWorld a("s3cret");
  EXPECT_EQ(a.client->Get("/v1/vips")->status, 401);
  EXPECT_EQ(a.client->Get("/metrics")->status, 401);
  EXPECT_EQ(a.client->Get("/healthz")->status, 200);
  EXPECT_EQ(a.client->Get("/readyz")->status, 200);
  a.client->set_bearer_token_auth("wrong!");
  EXPECT_EQ(a.client->Get("/v1/vips")->status, 401);
  a.client->set_bearer_token_auth("s3cret");
  EXPECT_EQ(a.client->Get("/v1/vips")->status, 200);
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(ApiServer, MetricsPassPromtool) {
  ApiWorld a;
  a.world.spread();
  ASSERT_EQ(
      a.client->Post("/v1/pools/web/backends/198.18.1.1/drain", "", "application/json")->status,
      200);
  auto r = a.client->Get("/metrics");
  ASSERT_EQ(r->status, 200);
  const std::string& text = r->body;
  EXPECT_NE(text.find("rail_vip_packets_total{vip=\"www\"} 200"), std::string::npos) << text;
  EXPECT_NE(text.find("rail_backend_up{pool=\"web\",backend=\"198.18.1.1\"} 1"), std::string::npos);
  EXPECT_NE(text.find("rail_backend_weight{pool=\"web\",backend=\"198.18.1.1\"} 0"),
            std::string::npos);
  EXPECT_NE(text.find("rail_table_rebuilds_total{vip=\"www\"} 2"), std::string::npos);
  EXPECT_NE(text.find("rail_drops_total{reason=\"no_backend\"} 0"), std::string::npos);
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");

  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool missing (scripts/setup.sh installs the prometheus package)";
  const std::string path = (a.world.dir() / "metrics.txt").string();
  std::ofstream(path) << text;
  const std::string cmd = "promtool check metrics < " + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << out;
  EXPECT_EQ(out, "") << out;
}

}  // namespace
}  // namespace rail::daemon::testing
