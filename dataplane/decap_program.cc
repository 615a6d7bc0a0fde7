// DecapProgram: the decap skeleton's life cycle, address map updates and counter reads.
#include "dataplane/decap_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

#include "dataplane/libbpf_error.h"
#include "dataplane/skeleton.h"
#include "decap.skel.h"

namespace rail::dataplane {

RAIL_BPF_SKELETON_TRAITS(decap_bpf);

struct DecapProgram::Owner {
  BpfSkeleton<decap_bpf_traits> skel;
};

namespace {

rail_addr_key make_key(const IpAddress& address) {
  rail_addr_key key{};
  std::memcpy(key.addr, address.data(), address.size());
  key.family = address.is_v4() ? RAIL_AF_INET : RAIL_AF_INET6;
  return key;
}

// Sums a per-CPU array of rail_decap_counter into `out`.
Status read_counters(bpf_map* map, DecapCounter* out, uint32_t entries) {
  int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return libbpf_error("count possible CPUs", ncpus);
  std::vector<rail_decap_counter> per_cpu(static_cast<size_t>(ncpus));
  for (uint32_t i = 0; i < entries; ++i) {
    if (bpf_map_lookup_elem(bpf_map__fd(map), &i, per_cpu.data()) != 0) {
      return errno_error(std::string("read counters ") + bpf_map__name(map));
    }
    for (const auto& c : per_cpu) {
      out[i].packets += c.packets;
      out[i].bytes += c.bytes;
    }
  }
  return ok();
}

}  // namespace

uint64_t DecapStats::decapsulated_packets() const {
  uint64_t sum = 0;
  for (int s = RAIL_DECAP_STAT_PASS + 1; s < RAIL_DECAP_STAT_MAX; ++s) sum += by_stat[s].packets;
  return sum;
}

Result<DecapProgram> DecapProgram::load(const DecapOptions& options) {
  auto skel = BpfSkeleton<decap_bpf_traits>::open();
  if (!skel) return skel.error();
  skel->get()->rodata->decap_any_address = options.any_address ? 1 : 0;
  skel->get()->rodata->gue_port = options.gue_port;
  RAIL_TRY(skel->load());
  return DecapProgram(std::make_unique<Owner>(Owner{std::move(*skel)}));
}

DecapProgram::DecapProgram(std::unique_ptr<Owner> owner) : owner_(std::move(owner)) {}
DecapProgram::DecapProgram(DecapProgram&&) noexcept = default;
DecapProgram& DecapProgram::operator=(DecapProgram&&) noexcept = default;
DecapProgram::~DecapProgram() {
  detach_all();
}

void DecapProgram::detach_all() {
  xdp_.clear();
  tc_.clear();
}

Status DecapProgram::add_address(const IpAddress& address) {
  rail_addr_key key = make_key(address);
  uint8_t present = 1;
  int fd = bpf_map__fd(owner_->skel->maps.decap_addresses);
  if (bpf_map_update_elem(fd, &key, &present, BPF_ANY) != 0) {
    if (errno == E2BIG) {
      return make_error(ErrorCode::kOutOfRange,
                        "more than " + std::to_string(RAIL_DECAP_MAX_ADDRESSES) +
                            " tunnel addresses; cannot add " + address.to_string());
    }
    return errno_error("add tunnel address " + address.to_string());
  }
  return ok();
}

Status DecapProgram::remove_address(const IpAddress& address) {
  rail_addr_key key = make_key(address);
  int fd = bpf_map__fd(owner_->skel->maps.decap_addresses);
  if (bpf_map_delete_elem(fd, &key) != 0) {
    if (errno == ENOENT) {
      return make_error(ErrorCode::kNotFound, "tunnel address " + address.to_string());
    }
    return errno_error("remove tunnel address " + address.to_string());
  }
  return ok();
}

Status DecapProgram::attach_tc(const std::string& ifname) {
  auto a = TcAttachment::attach(ifname, tc_prog_fd(), TcDirection::kIngress);
  if (!a) return a.error();
  tc_.push_back(std::move(*a));
  return ok();
}

Status DecapProgram::attach_xdp(const std::string& ifname, XdpMode mode) {
  auto a = XdpAttachment::attach(ifname, xdp_prog_fd(), mode);
  if (!a) return a.error();
  xdp_.push_back(std::move(*a));
  return ok();
}

Result<DecapStats> DecapProgram::stats() const {
  DecapStats stats;
  RAIL_TRY(
      read_counters(owner_->skel->maps.decap_stats, stats.by_stat.data(), RAIL_DECAP_STAT_MAX));
  RAIL_TRY(read_counters(owner_->skel->maps.decap_drops, stats.drops.data(), RAIL_DROP_REASON_MAX));
  return stats;
}

int DecapProgram::xdp_prog_fd() const {
  return bpf_program__fd(owner_->skel->progs.rail_decap_xdp);
}
int DecapProgram::tc_prog_fd() const {
  return bpf_program__fd(owner_->skel->progs.rail_decap_tc);
}

}  // namespace rail::dataplane
