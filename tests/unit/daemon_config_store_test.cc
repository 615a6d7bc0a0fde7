// ConfigStore: atomic save/load of the running config, stale temp files, errors with errno text.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/config/config_store.h"
#include "daemon/config/yaml_loader.h"

namespace rail::daemon {
namespace {

namespace fs = std::filesystem;

class DaemonConfigStore : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "rail-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static DaemonConfig example() {
    auto r = load_config_file(RAIL_EXAMPLES_DIR "/rail.yaml");
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : DaemonConfig{};
  }
  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  size_t entries() const {
    return size_t(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }

  fs::path dir_;
};

TEST_F(DaemonConfigStore, RoundTrip) {
  ConfigStore store((dir_ / "running.yaml").string());
  DaemonConfig c = example();
  ASSERT_TRUE(store.save(c));
  auto back = store.load();
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, c);
  EXPECT_EQ(entries(), 1u);  // no temp file left behind

  c.vips[0].need = 1;  // a second save replaces the first
  ASSERT_TRUE(store.save(c));
  EXPECT_EQ(store.load()->vips[0].need, 1u);
  EXPECT_EQ(entries(), 1u);
  EXPECT_EQ(slurp(store.path()).rfind("# The running configuration of raild", 0), 0u);
}

TEST_F(DaemonConfigStore, FirstStartIsNotFound) {
  ConfigStore store((dir_ / "running.yaml").string());
  auto r = store.load();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_F(DaemonConfigStore, CrashMidWriteLeavesTheOldConfigWhole) {
  ConfigStore store((dir_ / "running.yaml").string());
  DaemonConfig c = example();
  ASSERT_TRUE(store.save(c));
  const std::string before = slurp(store.path());
  // A crash between writing the temp file and the rename leaves exactly this behind.
  std::string stale = ConfigStore::temp_prefix(store.path()) + "a1b2c3";
  std::ofstream(stale) << before.substr(0, before.size() / 2);
  EXPECT_EQ(slurp(store.path()), before);
  auto back = store.load();
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, c);

  std::ofstream(dir_ / "unrelated.yaml") << "x";
  auto removed = store.remove_stale_temps();
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(dir_ / "unrelated.yaml"));
  EXPECT_EQ(slurp(store.path()), before);
}

TEST_F(DaemonConfigStore, TempFilesAreHiddenSiblings) {
  EXPECT_EQ(ConfigStore::temp_prefix("/var/lib/rail/running.yaml"),
            "/var/lib/rail/.running.yaml.tmp-");
  EXPECT_EQ(ConfigStore::temp_prefix("running.yaml"), "./.running.yaml.tmp-");
  EXPECT_EQ(ConfigStore::temp_prefix("/x"), "/.x.tmp-");
}

TEST_F(DaemonConfigStore, MissingDirectoryIsAnErrorWithErrnoText) {
  ConfigStore store((dir_ / "no-such-dir" / "running.yaml").string());
  Status st = store.save(example());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
  EXPECT_NE(st.error().message.find("No such file or directory"), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("running.yaml"), std::string::npos);
}

TEST_F(DaemonConfigStore, FailedRenameLeavesNoTempAndNoTarget) {
  // The target is a non-empty directory: rename(2) fails after the temp file was written.
  fs::create_directory(dir_ / "running.yaml");
  std::ofstream(dir_ / "running.yaml" / "keep") << "x";
  Status st = write_file_atomically((dir_ / "running.yaml").string(), "node: {}\n");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kSystem);
  EXPECT_NE(st.error().message.find("rename"), std::string::npos) << st.error().message;
  EXPECT_EQ(entries(), 1u);  // only the directory: the temp file was removed
}

TEST_F(DaemonConfigStore, UnwritableDirectoryIsPermission) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  fs::create_directory(dir_ / "ro");
  ::chmod((dir_ / "ro").c_str(), 0555);
  Status st = write_file_atomically((dir_ / "ro" / "running.yaml").string(), "x");
  ::chmod((dir_ / "ro").c_str(), 0755);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kPermission);
  EXPECT_NE(st.error().message.find("Permission denied"), std::string::npos);
}

TEST_F(DaemonConfigStore, CorruptStateFileIsAPositionedError) {
  ConfigStore store((dir_ / "running.yaml").string());
  std::ofstream(store.path()) << "node:\n  interfaces: [eth0]\n  mtu: big\n";
  auto r = store.load();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, store.path() + ":3:8: node.mtu: \"big\" is not a whole number");
}

}  // namespace
}  // namespace rail::daemon
