// Maglev tables filled through mmap (BPF_F_MMAPABLE inner maps) and by batch update (outer maps
// pinned by a build without mmapable tables) pick exactly as the reference forwarder.
#include <bpf/bpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "balancer_pair.h"
#include "golden/golden_world.h"
#include "pin_dir.h"

namespace rail::golden {
namespace {

// sample_config() with web4 tcp/80 served by 1000 backends (the issue #4 size).
LbConfig thousand_backends() {
  LbConfig config = sample_config();
  Service& web = service(config, kWeb4, Protocol::kTcp, 80);
  const Backend model = web.backends.front();
  web.backends.clear();
  for (int i = 0; i < 1000; ++i) {
    Backend b = model;
    b.address = ip("198.18." + std::to_string(10 + i / 250) + "." + std::to_string(1 + i % 250));
    web.backends.push_back(b);
  }
  web.table_size = 65537;
  return config;
}

// Flags of the inner map in the first used slot of `outer` (nullopt: no table there).
std::optional<uint32_t> inner_map_flags(int outer) {
  for (uint32_t slot = 0; slot < RAIL_MAX_SERVICES; ++slot) {
    uint32_t id = 0;
    if (bpf_map_lookup_elem(outer, &slot, &id) != 0) continue;
    const int fd = bpf_map_get_fd_by_id(id);
    if (fd < 0) return std::nullopt;
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    const int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
    close(fd);
    if (rc != 0) return std::nullopt;
    return info.map_flags;
  }
  return std::nullopt;
}

// A plane and the reference forwarder given the same configs; SYNs of 512 flows must leave
// both with the same verdict and bytes (so the same backend) after every step.
void ExpectTablesMatchTheReference(XdpDataPlane& plane, bool mmapable) {
  Forwarder reference;
  uint64_t now = 1'000'000'000;
  auto check = [&](const LbConfig& config, const char* step) {
    ASSERT_TRUE(plane.apply(config)) << step;
    ASSERT_TRUE(reference.apply(config)) << step;
    for (uint16_t port = 40000; port < 40512; ++port) {
      const Bytes syn = from_router(tcp4(kClient4, port, kWeb4, 80).syn().build());
      auto run = bpftest::test_run(plane.prog_fd(), syn);
      ASSERT_TRUE(run) << run.error().describe();
      Bytes ref_out;
      const Verdict ref = reference.process(syn, now += 1'000'000, ref_out);
      ASSERT_EQ(verdict_of(run->retval), ref.action) << step << " port " << port;
      ASSERT_EQ(run->output, ref_out) << step << " port " << port;
    }
  };
  LbConfig config = thousand_backends();
  Service& web = service(config, kWeb4, Protocol::kTcp, 80);
  check(config, "1000 backends, M = 65537");
  auto flags = inner_map_flags(plane.map_fd("rail_maglev_fast"));
  ASSERT_TRUE(flags);
  EXPECT_EQ((*flags & BPF_F_MMAPABLE) != 0, mmapable);
  web.backends[7].weight = 0;
  check(config, "one backend drained");
  web.backends[7].weight = 3;
  check(config, "its weight 3");
  web.backends.erase(web.backends.begin() + 7);
  check(config, "removed");
  web.table_size = 131071;  // > 65537: rail_maglev_tables
  check(config, "large table");
  flags = inner_map_flags(plane.map_fd("rail_maglev_tables"));
  ASSERT_TRUE(flags);
  EXPECT_EQ((*flags & BPF_F_MMAPABLE) != 0, mmapable);
  web.table_size = 65537;
  check(config, "back to the fast map");
}

TEST(TableFillTest, MmapFilledTablesPickAsTheReference) {
  dataplane::XdpOptions options;
  options.conn_capacity = 1 << 12;
  auto plane = XdpDataPlane::load(options);
  ASSERT_TRUE(plane) << plane.error().describe();
  ExpectTablesMatchTheReference(**plane, /*mmapable=*/true);
}

// apply() returns before the kernel's RCU wait for the old table ends (swap_table), but only
// once the slot holds the new table: the first packet after it must already use it.
TEST(TableFillTest, ThePacketRightAfterApplyUsesTheNewTable) {
  dataplane::XdpOptions options;
  options.conn_capacity = 1 << 12;
  auto plane = XdpDataPlane::load(options);
  ASSERT_TRUE(plane) << plane.error().describe();
  LbConfig config = thousand_backends();
  ASSERT_TRUE((*plane)->apply(config));
  const Bytes syn = from_router(tcp4(kClient4, 40000, kWeb4, 80).syn().build());
  auto first = bpftest::test_run((*plane)->prog_fd(), syn);
  ASSERT_TRUE(first && first->output.size() > 34) << "the SYN was not forwarded";
  const Bytes on_x = first->output;  // GRE to backend X
  Service& web = service(config, kWeb4, Protocol::kTcp, 80);
  size_t x = web.backends.size();
  for (size_t i = 0; i < web.backends.size(); ++i)
    if (std::equal(web.backends[i].address.data(), web.backends[i].address.data() + 4,
                   on_x.begin() + 30))
      x = i;
  ASSERT_LT(x, web.backends.size());
  for (int change = 0; change < 40; ++change) {
    const bool drained = change % 2 == 0;
    web.backends[x].weight = drained ? 0 : 1;
    ASSERT_TRUE((*plane)->apply(config));
    auto run = bpftest::test_run((*plane)->prog_fd(), syn);
    ASSERT_TRUE(run) << run.error().describe();
    if (drained)
      EXPECT_NE(run->output, on_x) << "change " << change << ": still the old table";
    else
      EXPECT_EQ(run->output, on_x) << "change " << change << ": still the old table";
  }
}

// A bpffs directory of this test, emptied and removed even when an assertion fails.

// Pins outer map `name` whose inner template has `flags` but not BPF_F_MMAPABLE, as a build
// before mmapable tables created it.
void PinOldOuterMap(const std::string& dir, const char* name, uint32_t entries, uint32_t flags) {
  LIBBPF_OPTS(bpf_map_create_opts, inner_opts, .map_flags = flags);
  const int inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "old_inner", 4, 4, entries, &inner_opts);
  ASSERT_GE(inner, 0);
  LIBBPF_OPTS(bpf_map_create_opts, outer_opts, .inner_map_fd = uint32_t(inner));
  const int outer =
      bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, name, 4, 4, RAIL_MAX_SERVICES, &outer_opts);
  close(inner);
  ASSERT_GE(outer, 0);
  EXPECT_EQ(bpf_obj_pin(outer, (dir + "/" + name).c_str()), 0);
  close(outer);
}

TEST(TableFillTest, OuterMapsPinnedWithoutMmapableTablesAreFilledByBatch) {
  PinDir dir("table-fill");
  PinOldOuterMap(dir.path(), "rail_maglev_fast", RAIL_MAGLEV_FAST_ENTRIES, 0);
  PinOldOuterMap(dir.path(), "rail_maglev_tables", 2, BPF_F_INNER_MAP);
  dataplane::XdpOptions options;
  options.conn_capacity = 1 << 12;
  options.pin_dir = dir.path();
  auto plane = XdpDataPlane::load(options);
  ASSERT_TRUE(plane) << plane.error().describe();
  ExpectTablesMatchTheReference(**plane, /*mmapable=*/false);
}

}  // namespace
}  // namespace rail::golden
