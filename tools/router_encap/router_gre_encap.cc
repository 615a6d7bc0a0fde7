// RouterGreEncap: the router_gre_encap skeleton's life cycle, node/VIP map updates, counters.
#include "router_encap/router_gre_encap.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "dataplane/libbpf_error.h"
#include "dataplane/skeleton.h"
#include "router_gre_encap.skel.h"

namespace rail::testbed {

using dataplane::errno_error;
using dataplane::libbpf_error;

RAIL_BPF_SKELETON_TRAITS(router_gre_encap_bpf);

struct RouterGreEncap::Owner {
  dataplane::BpfSkeleton<router_gre_encap_bpf_traits> skel;
};

Result<IpPrefix> IpPrefix::parse(std::string_view text) {
  IpPrefix prefix;
  size_t slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return address.error();
  prefix.address = *address;
  const unsigned max_len = address->is_v4() ? 32 : 128;
  unsigned length = max_len;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
        length > max_len) {
      return make_error(
          ErrorCode::kInvalidArgument,
          "prefix " + std::string(text) + ": length must be 0.." + std::to_string(max_len));
    }
  }
  prefix.length = static_cast<uint8_t>(length);
  return prefix;
}

std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

namespace {

rail_router_node_key node_key(const MacAddress& mac) {
  rail_router_node_key key{};
  std::memcpy(key.mac, mac.data(), sizeof(key.mac));
  return key;
}

Status check_prefix(const IpPrefix& prefix) {
  if (prefix.length > (prefix.address.is_v4() ? 32 : 128)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "VIP prefix " + prefix.to_string() + ": length out of range");
  }
  return ok();
}

}  // namespace

Result<RouterGreEncap> RouterGreEncap::load(const RouterEncapOptions& options) {
  if (options.outer_source_v4 && !options.outer_source_v4->is_v4()) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "outer IPv4 source " + options.outer_source_v4->to_string() + " is not an IPv4 address");
  }
  if (options.outer_source_v6 && !options.outer_source_v6->is_v6()) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "outer IPv6 source " + options.outer_source_v6->to_string() + " is not an IPv6 address");
  }
  auto skel = dataplane::BpfSkeleton<router_gre_encap_bpf_traits>::open();
  if (!skel) return skel.error();
  auto* rodata = skel->get()->rodata;
  if (options.outer_source_v4) std::memcpy(&rodata->outer_src4, options.outer_source_v4->data(), 4);
  if (options.outer_source_v6) std::memcpy(rodata->outer_src6, options.outer_source_v6->data(), 16);
  RAIL_TRY(skel->load());
  return RouterGreEncap(std::make_unique<Owner>(Owner{std::move(*skel)}));
}

RouterGreEncap::RouterGreEncap(std::unique_ptr<Owner> owner) : owner_(std::move(owner)) {}
RouterGreEncap::RouterGreEncap(RouterGreEncap&&) noexcept = default;
RouterGreEncap& RouterGreEncap::operator=(RouterGreEncap&& other) noexcept {
  if (this != &other) {
    detach_all();  // our attachments go before our program
    owner_ = std::move(other.owner_);
    tc_ = std::move(other.tc_);
  }
  return *this;
}
RouterGreEncap::~RouterGreEncap() {
  detach_all();
}

void RouterGreEncap::detach_all() {
  tc_.clear();
}

Status RouterGreEncap::add_vip_prefix(const IpPrefix& prefix) {
  RAIL_TRY(check_prefix(prefix));
  uint8_t present = 1;
  int err;
  if (prefix.address.is_v4()) {
    rail_router_vip4_key key{};
    key.prefixlen = prefix.length;
    std::memcpy(&key.addr, prefix.address.data(), 4);
    err = bpf_map_update_elem(bpf_map__fd(owner_->skel->maps.router_encap_vips4), &key, &present,
                              BPF_ANY);
  } else {
    rail_router_vip6_key key{};
    key.prefixlen = prefix.length;
    std::memcpy(key.addr, prefix.address.data(), 16);
    err = bpf_map_update_elem(bpf_map__fd(owner_->skel->maps.router_encap_vips6), &key, &present,
                              BPF_ANY);
  }
  if (err != 0) {
    if (errno == ENOSPC || errno == E2BIG) {
      return make_error(ErrorCode::kOutOfRange,
                        "more than " + std::to_string(RAIL_ROUTER_ENCAP_MAX_PREFIXES) +
                            " VIP prefixes; cannot add " + prefix.to_string());
    }
    return errno_error("add VIP prefix " + prefix.to_string());
  }
  return ok();
}

Status RouterGreEncap::remove_vip_prefix(const IpPrefix& prefix) {
  RAIL_TRY(check_prefix(prefix));
  int err;
  if (prefix.address.is_v4()) {
    rail_router_vip4_key key{};
    key.prefixlen = prefix.length;
    std::memcpy(&key.addr, prefix.address.data(), 4);
    err = bpf_map_delete_elem(bpf_map__fd(owner_->skel->maps.router_encap_vips4), &key);
  } else {
    rail_router_vip6_key key{};
    key.prefixlen = prefix.length;
    std::memcpy(key.addr, prefix.address.data(), 16);
    err = bpf_map_delete_elem(bpf_map__fd(owner_->skel->maps.router_encap_vips6), &key);
  }
  if (err != 0) {
    if (errno == ENOENT)
      return make_error(ErrorCode::kNotFound, "VIP prefix " + prefix.to_string());
    return errno_error("remove VIP prefix " + prefix.to_string());
  }
  return ok();
}

Status RouterGreEncap::add_node(const MacAddress& mac, std::optional<IpAddress> v4,
                                std::optional<IpAddress> v6) {
  const std::string name = "Rail node " + mac.to_string();
  if (!v4 && !v6) {
    return make_error(ErrorCode::kInvalidArgument, name + ": no ingress address given");
  }
  rail_router_node node{};
  if (v4) {
    if (!v4->is_v4()) {
      return make_error(ErrorCode::kInvalidArgument,
                        name + ": " + v4->to_string() + " is not an IPv4 address");
    }
    std::memcpy(&node.addr4, v4->data(), 4);
    node.flags |= RAIL_ROUTER_NODE_HAS_V4;
  }
  if (v6) {
    if (!v6->is_v6()) {
      return make_error(ErrorCode::kInvalidArgument,
                        name + ": " + v6->to_string() + " is not an IPv6 address");
    }
    std::memcpy(node.addr6, v6->data(), 16);
    node.flags |= RAIL_ROUTER_NODE_HAS_V6;
  }
  rail_router_node_key key = node_key(mac);
  if (bpf_map_update_elem(bpf_map__fd(owner_->skel->maps.router_encap_nodes), &key, &node,
                          BPF_ANY) != 0) {
    if (errno == E2BIG) {
      return make_error(ErrorCode::kOutOfRange, "more than " +
                                                    std::to_string(RAIL_ROUTER_ENCAP_MAX_NODES) +
                                                    " Rail nodes; cannot add " + mac.to_string());
    }
    return errno_error("add " + name);
  }
  return ok();
}

Status RouterGreEncap::remove_node(const MacAddress& mac) {
  rail_router_node_key key = node_key(mac);
  if (bpf_map_delete_elem(bpf_map__fd(owner_->skel->maps.router_encap_nodes), &key) != 0) {
    if (errno == ENOENT) return make_error(ErrorCode::kNotFound, "Rail node " + mac.to_string());
    return errno_error("remove Rail node " + mac.to_string());
  }
  return ok();
}

Status RouterGreEncap::attach_tc_egress(const std::string& ifname) {
  auto a = dataplane::TcAttachment::attach(ifname, prog_fd(), dataplane::TcDirection::kEgress);
  if (!a) return a.error();
  tc_.push_back(std::move(*a));
  return ok();
}

Result<RouterGreEncap::Counters> RouterGreEncap::counters() const {
  int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return libbpf_error("count possible CPUs", ncpus);
  std::vector<rail_router_encap_counter> per_cpu(static_cast<size_t>(ncpus));
  RouterEncapCounter sums[RAIL_ROUTER_ENCAP_STAT_MAX];
  int fd = bpf_map__fd(owner_->skel->maps.router_encap_stats);
  for (uint32_t i = 0; i < RAIL_ROUTER_ENCAP_STAT_MAX; ++i) {
    if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) != 0) {
      return errno_error("read router_encap_stats");
    }
    for (const auto& c : per_cpu) {
      sums[i].packets += c.packets;
      sums[i].bytes += c.bytes;
    }
  }
  Counters counters;
  counters.encapsulated = sums[RAIL_ROUTER_ENCAP_STAT_ENCAPSULATED];
  counters.passed = sums[RAIL_ROUTER_ENCAP_STAT_PASSED];
  counters.errors = sums[RAIL_ROUTER_ENCAP_STAT_ERRORS];
  counters.too_big = sums[RAIL_ROUTER_ENCAP_STAT_TOO_BIG];
  return counters;
}

int RouterGreEncap::prog_fd() const {
  return bpf_program__fd(owner_->skel->progs.rail_router_gre_encap);
}

}  // namespace rail::testbed
