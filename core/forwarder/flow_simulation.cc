// FlowSimulation: real frames through two reference forwarders (with and without state).
#include "core/forwarder/flow_simulation.h"

#include <algorithm>
#include <map>
#include <random>

#include "core/forwarder/forwarder.h"
#include "core/packet/builder.h"

namespace rail {
namespace {

using packet::PacketBuilder;

const MacAddress kRouter({0x02, 0, 0, 0, 0x0a, 0x01});
const MacAddress kNode({0x02, 0, 0, 0, 0x0b, 0x01});
const IpAddress kVip = IpAddress::v4(0xC6126401u);  // 198.18.100.1

Backend make_backend(uint32_t i) {
  Backend b;
  b.address = IpAddress::v4(0xC6120200u + 1 + i);  // 198.18.2.(i+1), then 198.18.3.x ...
  b.next_hop_mac = MacAddress({0x02, 0, 0, 0, 0x0d, uint8_t(i + 1)});
  return b;
}

LbConfig make_config(uint32_t backends, uint32_t table_size) {
  LbConfig c;
  c.node.mac = kNode;
  c.node.outer_source_v4 = IpAddress::v4(0xC6120101u);  // 198.18.1.1
  Service s;
  s.vip = kVip;
  s.port = 80;
  s.table_size = table_size;
  for (uint32_t i = 0; i < backends; ++i) s.backends.push_back(make_backend(i));
  c.services.push_back(s);
  return c;
}

struct Flow {
  IpAddress client;
  uint16_t port;
};

std::vector<uint8_t> frame(const Flow& f, bool syn) {
  PacketBuilder p;
  p.eth(kRouter, kNode).ipv4(f.client, kVip).tcp(f.port, 80);
  if (syn) {
    p.syn();
  } else {
    p.ack();
  }
  return p.build();
}

// The backend address a packet went to, or "" when it was not sent to a backend.
std::string backend_of(const Forwarder& fw, const Verdict& v) {
  if (v.action != RAIL_VERDICT_TX || v.backend_id == kNoId) return "";
  return fw.state().backend(v.backend_id)->address.to_string();
}

}  // namespace

Result<FlowSimulationReport> simulate_flows(const FlowSimulationSpec& spec) {
  if (spec.backends == 0 || spec.backends > 250)
    return make_error(ErrorCode::kInvalidArgument, "backends must be 1..250");
  if (spec.fail >= spec.backends)
    return make_error(ErrorCode::kInvalidArgument, "cannot fail " + std::to_string(spec.fail) +
                                                       " of " + std::to_string(spec.backends) +
                                                       " backends: at least one must stay up");
  if (spec.backends + spec.add > 250)
    return make_error(ErrorCode::kInvalidArgument, "backends + added must be at most 250");

  LbConfig before = make_config(spec.backends, spec.table_size);
  ForwarderOptions options;
  options.conn_capacity = std::max<size_t>(spec.flows * 2, 1024);
  Forwarder stateful(options), stateless(options);
  RAIL_TRY(stateful.apply(before));
  RAIL_TRY(stateless.apply(before));

  std::mt19937_64 rng(spec.seed);
  std::vector<Flow> flows;
  for (uint32_t i = 0; i < spec.flows; ++i)
    flows.push_back(
        {IpAddress::v4(0xC6120000u | uint32_t(rng() & 0x1ffff)), uint16_t(32768 + rng() % 28232)});

  FlowSimulationReport report;
  std::map<std::string, size_t> index;
  for (const Backend& b : before.services[0].backends) {
    index[b.address.to_string()] = report.backend_names.size();
    report.backend_names.push_back(b.address.to_string());
  }
  report.flows_before.assign(spec.backends, 0);
  std::vector<std::string> first(flows.size());
  std::vector<uint8_t> out;
  uint64_t now = 1'000'000'000;
  for (size_t i = 0; i < flows.size(); ++i) {
    first[i] = backend_of(stateful, stateful.process(frame(flows[i], true), now, out));
    ++report.packets;
    if (auto it = index.find(first[i]); it != index.end()) ++report.flows_before[it->second];
  }

  LbConfig after = before;
  auto& backends = after.services[0].backends;
  std::vector<uint32_t> order(spec.backends);
  for (uint32_t i = 0; i < spec.backends; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (uint32_t k = 0; k < spec.fail; ++k) {
    backends[order[k]].state = BackendState::kDown;
    report.changed_backends.push_back(backends[order[k]].address.to_string());
  }
  for (uint32_t k = 0; k < spec.add; ++k) {
    backends.push_back(make_backend(spec.backends + k));
    report.changed_backends.push_back(backends.back().address.to_string());
  }
  RAIL_TRY(stateful.apply(after));
  RAIL_TRY(stateless.apply(after));

  now += 1'000'000'000;
  for (size_t i = 0; i < flows.size(); ++i) {
    const std::vector<uint8_t> ack = frame(flows[i], false);
    const std::string with_table = backend_of(stateful, stateful.process(ack, now, out));
    // Stateless: a forwarder that never saw the flow picks by the table alone.
    const std::string no_table =
        backend_of(stateless, stateless.process(frame(flows[i], true), now, out));
    report.packets += 2;
    const bool failed = std::find(report.changed_backends.begin(), report.changed_backends.end(),
                                  first[i]) != report.changed_backends.end();
    report.flows_on_failed += failed;
    if (with_table != first[i]) {
      ++report.moved_with_table;
      if (!failed) ++report.moved_on_healthy;
    }
    report.moved_stateless += no_table != first[i];
  }
  return report;
}

}  // namespace rail
