// Writes a small seed corpus of valid frames made by PacketBuilder into the directory argv[1]
// (one file per frame), so the fuzzer starts from every header kind instead of from noise.
#include <cstdio>
#include <string>
#include <vector>

#include "core/packet/builder.h"
#include "golden/golden_cases.h"

using rail::IpAddress;
using rail::MacAddress;
using rail::packet::PacketBuilder;

namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const MacAddress a(std::array<uint8_t, 6>{2, 0, 0, 0, 0, 1});
  const MacAddress b(std::array<uint8_t, 6>{2, 0, 0, 0, 0, 2});
  const IpAddress c4 = ip("198.18.0.1"), v4 = ip("198.18.100.10");
  const IpAddress c6 = ip("2001:db8::1"), v6 = ip("2001:db8::10");
  auto quote4 = PacketBuilder().ipv4(v4, c4).tcp(80, 40000).build();
  quote4.resize(28);
  auto quote6 = PacketBuilder().ipv6(v6, c6).udp(53, 5353).build();
  std::vector<std::vector<uint8_t>> seeds = {
      PacketBuilder().eth(a, b).ipv4(c4, v4).df().tcp(40000, 80).syn().payload("hi").build(),
      PacketBuilder().eth(a, b).vlan(100).ipv4(c4, v4).udp(5000, 53).payload("q").pad(10).build(),
      PacketBuilder()
          .eth(a, b)
          .ipv4(c4, v4)
          .ipv4_options(std::vector<uint8_t>{1, 1, 1, 0})
          .mf()
          .udp(1, 2)
          .build(),
      PacketBuilder().eth(a, b).ipv4(c4, v4).frag_offset(5).protocol(17).payload("frag").build(),
      PacketBuilder().eth(a, b).ipv4(c4, v4).icmp_echo_request(1, 1).payload("ping").build(),
      PacketBuilder()
          .eth(a, b)
          .ipv4(ip("198.18.3.1"), v4)
          .icmp_frag_needed(1400)
          .payload(quote4)
          .build(),
      PacketBuilder().eth(a, b).ipv6(c6, v6).tcp(40000, 443).ack().build(),
      PacketBuilder()
          .eth(a, b)
          .ipv6(c6, v6)
          .hop_by_hop()
          .routing_header()
          .fragment_header(0, true, 7)
          .dest_options()
          .udp(1, 2)
          .build(),
      PacketBuilder().eth(a, b).ipv6(c6, v6).icmpv6_packet_too_big(1280).payload(quote6).build(),
      PacketBuilder().eth(a, b).ipv6(c6, v6).icmpv6_neighbor_solicitation(v6).build(),
      PacketBuilder()
          .eth(a, b)
          .ipv4(ip("198.18.1.254"), ip("198.18.1.1"))
          .gre()
          .gre_checksum()
          .gre_key(9)
          .gre_sequence(1)
          .ipv4(c4, v4)
          .tcp(1, 80)
          .build(),
      PacketBuilder()
          .eth(a, b)
          .ipv4(ip("198.18.1.254"), ip("198.18.1.1"))
          .gre()
          .ipv6(c6, v6)
          .udp(1, 2)
          .build(),
      PacketBuilder()
          .eth(a, b)
          .ipv6(ip("2001:db8:1::1"), ip("2001:db8:2::1"))
          .gue(0xC001)
          .ipv4(c4, v4)
          .tcp(1, 80)
          .build(),
      PacketBuilder()
          .eth(a, b)
          .ipv6(ip("2001:db8:1::1"), ip("2001:db8:2::1"))
          .ipv6(c6, v6)
          .tcp(1, 80)
          .build(),
      PacketBuilder().ipv4(ip("198.18.1.254"), ip("198.18.1.1")).gre().ipv4(c4, v4).udp(1, 2).build(),
  };
  // Every golden input too: they reach every branch of the forwarder (VIPs, services, GRE
  // ingress, ICMP, fragments) that random frames would rarely find.
  for (const auto& c : rail::golden::golden_cases())
    for (const auto& step : c.steps) seeds.push_back(step.input);
  for (size_t i = 0; i < seeds.size(); ++i) {
    const std::string path = std::string(argv[1]) + "/seed-" + std::to_string(i);
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(seeds[i].data(), 1, seeds[i].size(), f) != seeds[i].size()) {
      std::perror(path.c_str());
      return 1;
    }
    std::fclose(f);
  }
  return 0;
}
