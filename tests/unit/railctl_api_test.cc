// railctl against a real API server: the built railctl binary is run (as operators run it)
// against an ApiServer started in this process over a Controller and the ReferenceDataPlane
// (controller_test_world.h), on 127.0.0.1 with a free port.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api_test_server.h"
#include "controller_test_world.h"
#include "daemon/api/api_server.h"

namespace rail::daemon::testing {
namespace {

#ifndef RAILCTL_BINARY
#define RAILCTL_BINARY ""
#endif

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The line of `text` that contains `needle` ("" if none).
std::string line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) return line;
  return "";
}

// A port nothing listens on: bound, read, closed.
uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct RailctlWorld : ApiTestServer {
  explicit RailctlWorld(std::string token = "")
      : ApiTestServer(std::move(token)), api("http://127.0.0.1:" + std::to_string(port())) {}
  // Runs `railctl --api <this server> <args>` through the shell; `env` goes before the
  // command ("RAIL_API=..."), `input` is its stdin; without `with_api` there is no --api.
  CliRun railctl(const std::string& args, const std::string& env = "",
                 const std::string& input = "/dev/null", bool with_api = true) {
    const std::filesystem::path out = world.dir() / "out", err = world.dir() / "err";
    const std::string cmd = env + " " RAILCTL_BINARY + (with_api ? " --api " + api : "") + " " +
                            args + " >" + out.string() + " 2>" + err.string() + " <" + input;
    CliRun r;
    const int status = std::system(cmd.c_str());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
  std::string api;
};

class Railctl : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string(RAILCTL_BINARY).empty()) GTEST_SKIP() << "railctl not built";
  }
};

TEST_F(Railctl, VipsTableHasTheVipAlignedUnderItsHeaders) {
  RailctlWorld w;
  w.world.spread();  // some traffic for the counters
  const CliRun r = w.railctl("vips");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string header = line_with(r.out, "NAME");
  const std::string row = line_with(r.out, "www");
  ASSERT_FALSE(header.empty()) << r.out;
  ASSERT_FALSE(row.empty()) << r.out;
  EXPECT_EQ(header.find("ADDRESS"), row.find("198.18.100.1")) << r.out;
  EXPECT_EQ(header.find("PROTO/PORT"), row.find("tcp/80")) << r.out;
  EXPECT_EQ(header.find("ENCAP"), row.find("gre")) << r.out;
  EXPECT_NE(row.find("3/1"), std::string::npos) << r.out;
  // Numbers are right-aligned: the row ends where the header does.
  EXPECT_EQ(header.size(), row.size()) << r.out;
  EXPECT_NE(row.find(" 200"), std::string::npos) << "200 new flows: " << r.out;
}

TEST_F(Railctl, DrainWeightAndForceShowInVip) {
  RailctlWorld w;
  CliRun r = w.railctl("vip www");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* a : {"198.18.1.1", "198.18.1.2", "198.18.1.3"}) {
    EXPECT_NE(line_with(r.out, a).find(" up "), std::string::npos) << r.out;
    EXPECT_NE(line_with(r.out, a).find("unchecked"), std::string::npos) << r.out;
  }
  EXPECT_EQ(w.railctl("drain web 198.18.1.2").code, 0);
  EXPECT_EQ(w.railctl("weight web 198.18.1.3 5").code, 0);
  r = w.railctl("force web 198.18.1.1 down");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "198.18.1.1 in pool web forced down\n");
  r = w.railctl("vip www");
  EXPECT_NE(line_with(r.out, "198.18.1.2").find("drained"), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "198.18.1.3").find("  5  "), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "198.18.1.1").find("forced-down"), std::string::npos) << r.out;
  EXPECT_EQ(w.world.spread(), std::set<std::string>{"198.18.1.3"});

  EXPECT_EQ(w.railctl("undrain web 198.18.1.2").code, 0);
  EXPECT_EQ(w.railctl("force web 198.18.1.1 none").code, 0);
  r = w.railctl("vip www");
  EXPECT_NE(line_with(r.out, "198.18.1.1").find(" up "), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "198.18.1.2").find(" up "), std::string::npos) << r.out;
}

TEST_F(Railctl, BadWeightIsAUsageErrorAndChangesNothing) {
  RailctlWorld w;
  const DaemonConfig before = w.world.c().config();
  for (const char* bad : {"-3", "abc", "70000", "1.5"}) {
    const CliRun r = w.railctl(std::string("weight web 198.18.1.2 ") + bad);
    EXPECT_EQ(r.code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("weight \"" + std::string(bad) + "\" is not a whole number 0..65535"),
              std::string::npos)
        << r.err;
  }
  EXPECT_EQ(w.railctl("add-backend web 198.18.1.4 --weight abc").code, 2);
  EXPECT_EQ(w.railctl("force web 198.18.1.2 sideways").code, 2);
  EXPECT_EQ(w.railctl("weight web").code, 2);  // missing arguments: CLI11
  EXPECT_EQ(w.railctl("no-such-command").code, 2);
  EXPECT_EQ(w.world.c().config(), before);
  EXPECT_TRUE(w.world.c().runtime().drained.empty());
}

TEST_F(Railctl, ApiErrorsPrintTheMessageAndDetails) {
  RailctlWorld w;
  CliRun r = w.railctl("vip nope");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: no VIP named \"nope\" (HTTP 404)\n");
  r = w.railctl("drain web 198.18.9.9");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("has no backend 198.18.9.9"), std::string::npos) << r.err;
  r = w.railctl("add-backend web 198.18.1.1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("HTTP 409"), std::string::npos) << r.err;
  // Several problems: the summary, then one indented line each.
  const auto file = w.world.dir() / "bad.yaml";
  std::ofstream(file) << "name: x\naddress: 198.18.100.9\nport: 70000\ntable_size: 100\n"
                         "pool: web\n";
  r = w.railctl("add-vip " + file.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error: 2 problems; nothing was changed (HTTP 400)\n  "), std::string::npos)
      << r.err;
}

TEST_F(Railctl, NoServerIsExit1CannotReach) {
  const std::string api = "http://127.0.0.1:" + std::to_string(closed_port());
  RailctlWorld w;
  w.api = api;
  for (const char* cmd : {"vips", "drain web 198.18.1.2", "health", "metrics"}) {
    const CliRun r = w.railctl(cmd);
    EXPECT_EQ(r.code, 1) << cmd;
    EXPECT_EQ(r.err, "error: cannot reach raild at " + api + ": Connection refused\n") << cmd;
  }
  const CliRun r = w.railctl("vips", "RAIL_API=" + api, "/dev/null", /*with_api=*/false);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot reach raild at " + api), std::string::npos) << r.err;
}

TEST_F(Railctl, JsonOutputParses) {
  RailctlWorld w;
  for (const char* cmd : {"--json vips", "vips --json", "--json vip www",
                          "--json drain web "
                          "198.18.1.2",
                          "--json health"}) {
    const CliRun r = w.railctl(cmd);
    ASSERT_EQ(r.code, 0) << cmd << r.err;
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << cmd << ": " << r.out;
  }
  const auto j = nlohmann::json::parse(w.railctl("vips --json").out);
  EXPECT_EQ(j["vips"][0]["name"], "www");
  EXPECT_EQ(j["vips"][0]["backends"][1]["drained"], true);
}

TEST_F(Railctl, AddVipFromYamlOrJsonThenRemove) {
  RailctlWorld w;
  const auto yaml = w.world.dir() / "vip.yaml";
  std::ofstream(yaml) << "vips:\n  - name: api\n    address: 198.18.100.3\n    port: 443\n"
                         "    encapsulation: ipip\n    pool: web\n    need: 2\n";
  CliRun r = w.railctl("add-vip " + yaml.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "added VIP api\n");
  r = w.railctl("vips");
  EXPECT_NE(line_with(r.out, "api").find("tcp/443"), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "api").find("ipip"), std::string::npos) << r.out;
  EXPECT_NE(line_with(r.out, "api").find("3/2"), std::string::npos) << r.out;
  EXPECT_EQ(w.railctl("remove-vip api").code, 0);
  EXPECT_EQ(line_with(w.railctl("vips").out, "api"), "");

  const auto json = w.world.dir() / "vip.json";
  std::ofstream(json) << R"({"name": "dns", "address": "198.18.100.4", "protocol": "udp",)"
                      << R"( "port": 53, "pool": "web"})";
  r = w.railctl("add-vip -", "", json.string());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(line_with(w.railctl("vips").out, "dns").find("udp/53"), std::string::npos);
  EXPECT_EQ(w.railctl("add-vip " + (w.world.dir() / "missing.yaml").string()).code, 2);
}

TEST_F(Railctl, BearerTokenFromFileOrEnvironment) {
  RailctlWorld w("s3cret");
  const auto token = w.world.dir() / "token";
  std::ofstream(token) << "s3cret\n";
  CliRun r = w.railctl("vips");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: missing or wrong bearer token (HTTP 401)\n");
  EXPECT_EQ(w.railctl("--token-file " + token.string() + " vips").code, 0);
  EXPECT_EQ(w.railctl("vips", "RAIL_TOKEN_FILE=" + token.string()).code, 0);
  EXPECT_EQ(w.railctl("vips", "RAIL_API=" + w.api + " RAIL_TOKEN_FILE=" + token.string(),
                      "/dev/null", /*with_api=*/false)
                .code,
            0);
  r = w.railctl("--token-file /nonexistent vips");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot read token file /nonexistent"), std::string::npos) << r.err;
  EXPECT_EQ(w.railctl("health").code, 0);  // probes need no token
}

TEST_F(Railctl, HealthAndMetrics) {
  RailctlWorld w;
  CliRun r = w.railctl("health");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "healthz  200 ok\nreadyz   200 ready\n");
  r = w.railctl("metrics");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("# TYPE "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vip=\"www\""), std::string::npos) << r.out;
}

}  // namespace
}  // namespace rail::daemon::testing
