// Parse cost per frame (Ethernet/IPv4/TCP and Ethernet/IPv6/TCP): the forwarder's budget is
// ~30 ns for parse + flow hash + Maglev lookup, so parsing should take about 10 ns.
#include <benchmark/benchmark.h>

#include "core/packet/builder.h"
#include "core/packet/parser.h"

namespace {

using rail::IpAddress;
using rail::MacAddress;
namespace pkt = rail::packet;

const MacAddress kA(std::array<uint8_t, 6>{2, 0, 0, 0, 0, 1});
const MacAddress kB(std::array<uint8_t, 6>{2, 0, 0, 0, 0, 2});

std::vector<uint8_t> v4_tcp_frame() {
  return pkt::PacketBuilder()
      .eth(kA, kB)
      .ipv4(*IpAddress::parse("198.18.0.1"), *IpAddress::parse("198.18.100.10"))
      .df()
      .tcp(40000, 80)
      .ack()
      .payload(std::string(64, 'x'))
      .build();
}

std::vector<uint8_t> v6_tcp_frame() {
  return pkt::PacketBuilder()
      .eth(kA, kB)
      .ipv6(*IpAddress::parse("2001:db8::1"), *IpAddress::parse("2001:db8::10"))
      .tcp(40000, 443)
      .ack()
      .payload(std::string(64, 'x'))
      .build();
}

void BM_ParseFrameIpv4Tcp(benchmark::State& state) {
  const auto frame = v4_tcp_frame();
  for (auto _ : state) {
    auto r = pkt::parse_frame(frame);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseFrameIpv4Tcp)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_ParseFrameIpv6Tcp(benchmark::State& state) {
  const auto frame = v6_tcp_frame();
  for (auto _ : state) {
    auto r = pkt::parse_frame(frame);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseFrameIpv6Tcp)->Repetitions(5)->ReportAggregatesOnly(true);

// The forwarder's layered path: L2, L3, (VIP check would go here), ext walk, L4.
void BM_ParseLayersIpv4Tcp(benchmark::State& state) {
  const auto frame = v4_tcp_frame();
  for (auto _ : state) {
    auto l2 = pkt::parse_l2(frame);
    auto l3 = pkt::parse_l3(frame, l2->l3_offset, l2->eth.ethertype);
    auto l4 = pkt::parse_l4(frame, *l3);
    benchmark::DoNotOptimize(l4);
  }
}
BENCHMARK(BM_ParseLayersIpv4Tcp)->Repetitions(5)->ReportAggregatesOnly(true);

void BM_BuildIpv4TcpFrame(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(v4_tcp_frame());
}
BENCHMARK(BM_BuildIpv4TcpFrame)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
