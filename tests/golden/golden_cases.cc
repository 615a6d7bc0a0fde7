// The golden cases, part 1: balancing, encapsulations, connection state, GRE ingress.
// Part 2 (ICMP, fragments, too big, malformed input) is golden_cases_edge.cc.
#include "golden/golden_cases.h"

#include "core/packet/headers.h"

namespace rail::golden {

using namespace rail::packet;

Step expect_tx(std::string what, Bytes input, Bytes output) {
  Step s;
  s.what = std::move(what);
  s.input = std::move(input);
  s.verdict = RAIL_VERDICT_TX;
  s.output = std::move(output);
  return s;
}

Step expect_pass(std::string what, Bytes input) {
  Step s;
  s.what = std::move(what);
  s.input = std::move(input);
  s.verdict = RAIL_VERDICT_PASS;
  return s;
}

Step expect_drop(std::string what, Bytes input, rail_drop_reason reason) {
  Step s;
  s.what = std::move(what);
  s.input = std::move(input);
  s.verdict = RAIL_VERDICT_DROP;
  s.reason = reason;
  return s;
}

namespace {

Step with(Step step, std::function<void(LbConfig&)> reconfigure) {
  step.reconfigure = std::move(reconfigure);
  return step;
}

Case make(std::string name, std::vector<Step> steps) {
  return Case{std::move(name), sample_config(), std::move(steps)};
}

// Fixed Maglev assignments (table size 251, default seed), pinned here on purpose: they change
// only if the flow hash, the Maglev permutation hashes or the population order change, all of
// which must be identical on every node and build.
//   tcp 198.18.0.10:40000 -> web4:80   b4 (after b4 drained/down: b2; with b5 added: b4)
//   tcp 198.18.0.10:40003 -> web4:80   b4 (with b5 added: b5; b4 drained: b1)
const uint8_t kTcp = kIpProtoTcp;
const uint8_t kUdp = kIpProtoUdp;

std::vector<Case> basic_cases() {
  std::vector<Case> cases;

  const Bytes syn_a = tcp4(kClient4, 40000, kWeb4, 80).syn().build();
  const Bytes ack_a = tcp4(kClient4, 40000, kWeb4, 80).ack().seq(1).payload("GET /").build();
  const uint32_t h_a = hash_of(kClient4, 40000, kWeb4, 80, kTcp);
  const Bytes syn_b = tcp4(kClient4, 40003, kWeb4, 80).syn().build();
  const Bytes ack_b = tcp4(kClient4, 40003, kWeb4, 80).ack().seq(1).build();
  const uint32_t h_b = hash_of(kClient4, 40003, kWeb4, 80, kTcp);

  cases.push_back(
      make("TcpSynAndDataGoOutGreToTheMaglevBackend",
           {expect_tx("SYN to web4:80 -> GRE to b4", from_router(syn_a), gre_to(b(4), syn_a, h_a)),
            expect_tx("data of the same flow -> b4 (connection table)", from_router(ack_a),
                      gre_to(b(4), ack_a, h_a))}));

  cases.push_back(make("EstablishedFlowKeepsItsBackendWhenBackendsAreAdded",
                       {expect_tx("SYN -> b4", from_router(syn_b), gre_to(b(4), syn_b, h_b)),
                        with(expect_tx("after b5 joins, data of the flow still -> b4",
                                       from_router(ack_b), gre_to(b(4), ack_b, h_b)),
                             [](LbConfig& c) {
                               Backend b5;
                               b5.address = b(5);
                               b5.next_hop_mac = mac_of(b(5));
                               service(c, kWeb4, Protocol::kTcp, 80).backends.push_back(b5);
                             }),
                        expect_tx("a new SYN of the same 5-tuple takes the new table: b5",
                                  from_router(syn_b), gre_to(b(5), syn_b, h_b)),
                        expect_tx("a flow the new table did not move stays: b4", from_router(syn_a),
                                  gre_to(b(4), syn_a, h_a))}));

  cases.push_back(
      make("DrainedBackendKeepsEstablishedFlowsButTakesNoNewOnes",
           {expect_tx("SYN -> b4", from_router(syn_a), gre_to(b(4), syn_a, h_a)),
            with(expect_tx("b4 drained (weight 0): its established flow stays", from_router(ack_a),
                           gre_to(b(4), ack_a, h_a)),
                 [](LbConfig& c) { service(c, kWeb4, Protocol::kTcp, 80).backends[3].weight = 0; }),
            expect_tx("a new flow that used to map to b4 goes to b1", from_router(syn_b),
                      gre_to(b(1), syn_b, h_b))}));

  cases.push_back(make(
      "DownBackendLosesItsFlows",
      {expect_tx("SYN -> b4", from_router(syn_a), gre_to(b(4), syn_a, h_a)),
       with(
           expect_tx("b4 down: the flow moves to b2", from_router(ack_a), gre_to(b(2), ack_a, h_a)),
           [](LbConfig& c) {
             service(c, kWeb4, Protocol::kTcp, 80).backends[3].state = BackendState::kDown;
           }),
       expect_tx("and stays on b2", from_router(ack_a), gre_to(b(2), ack_a, h_a))}));

  // Both connection tables (IPv4: rail_conntrack4, IPv6: rail_conntrack6): a drained backend
  // is out of the Maglev tables, so only a connection-table hit can keep a flow on it.
  const Bytes syn6_a = tcp6(kClient6, 40000, kWeb6, 80).syn().build();
  const Bytes ack6_a = tcp6(kClient6, 40000, kWeb6, 80).ack().seq(1).payload("GET /").build();
  const uint32_t h6_a = hash_of(kClient6, 40000, kWeb6, 80, kTcp);
  cases.push_back(
      make("EstablishedIpv4AndIpv6FlowsKeepTheirBackendsWhenTheTablesChange",
           {expect_tx("IPv4 SYN -> b4", from_router(syn_a), gre_to(b(4), syn_a, h_a)),
            expect_tx("IPv6 SYN -> c3", from_router(syn6_a), gre_to(c(3), syn6_a, h6_a)),
            with(expect_tx("b4 and c3 drained: the IPv4 flow stays on b4", from_router(ack_a),
                           gre_to(b(4), ack_a, h_a)),
                 [](LbConfig& c) {
                   service(c, kWeb4, Protocol::kTcp, 80).backends[3].weight = 0;
                   service(c, kWeb6, Protocol::kTcp, 80).backends[2].weight = 0;
                 }),
            expect_tx("and the IPv6 flow on c3", from_router(ack6_a), gre_to(c(3), ack6_a, h6_a)),
            expect_tx("the IPv4 flow through GRE ingress (general path) -> b4",
                      gre_from_router(ack_a), gre_to(b(4), ack_a, h_a)),
            expect_tx("the IPv6 flow through GRE ingress -> c3", gre_from_router(ack6_a),
                      gre_to(c(3), ack6_a, h6_a))}));

  const Bytes udp = udp4(kClient4, 5000, kWeb4, 53).payload("query").build();
  cases.push_back(make("UdpToAnyPortServiceGoesOutIpip",
                       {expect_tx("udp to web4:53 (any-port service) -> IPIP to b1",
                                  from_router(udp), ipip_to(b(1), udp, 0))}));

  const Bytes gue_syn = tcp4(kClient4, 40000, kGue4, 443).syn().build();
  cases.push_back(
      make("GueServiceWrapsTheIpPacketInUdp",
           {expect_tx("SYN to gue4:443 -> GUE to b2", from_router(gue_syn),
                      gue_to(b(2), gue_syn, hash_of(kClient4, 40000, kGue4, 443, kTcp)))}));

  const Bytes l2_syn = tcp4(kClient4, 40000, kL2Vip4, 22).syn().build();
  cases.push_back(make("L2ServiceRewritesOnlyTheMac",
                       {expect_tx("SYN to l2vip:22 -> b2's MAC, IP packet untouched",
                                  from_router(l2_syn), l2_to(b(2), l2_syn))}));

  const Bytes sticky1 = tcp4(kClient4, 40000, kSticky4, 80).syn().build();
  const Bytes sticky2 = tcp4(kClient4, 40001, kSticky4, 80).syn().build();
  cases.push_back(
      make("SourceAffinityKeepsAClientOnOneBackend",
           {expect_tx("client port 40000 -> b4", from_router(sticky1), gre_to(b(4), sticky1, 0)),
            expect_tx("client port 40001 -> b4 as well", from_router(sticky2),
                      gre_to(b(4), sticky2, 0))}));

  const Bytes syn6 = tcp6(kClient6, 40000, kWeb6, 80).syn().build();
  const uint32_t h6 = hash_of(kClient6, 40000, kWeb6, 80, kTcp);
  cases.push_back(make(
      "Ipv6TcpGoesOutGreOverIpv6WithTheFlowHashAsFlowLabel",
      {expect_tx("SYN to web6:80 -> GRE/IPv6 to c3", from_router(syn6), gre_to(c(3), syn6, h6))}));

  const Bytes udp6p = udp6(kClient6, 5000, kWeb6, 53).payload("query").build();
  cases.push_back(
      make("Ipv6UdpGoesOutIp6ip6",
           {expect_tx("udp to web6:53 -> IP6IP6 to c1", from_router(udp6p),
                      ipip_to(c(1), udp6p, hash_of(kClient6, 5000, kWeb6, 53, kUdp)))}));

  const Bytes mixed = tcp6(kClient6, 40000, kMixed6, 80).syn().build();
  cases.push_back(make("Ipv6VipWithIpv4BackendsCarriesIpv6InsideGreOverIpv4",
                       {expect_tx("SYN to mixed6:80 -> GRE/IPv4 to b2", from_router(mixed),
                                  gre_to(b(2), mixed, 0))}));

  cases.push_back(
      make("VlanTagIsKept", {expect_tx("tagged SYN -> tagged GRE to b4", from_router(syn_a, 100),
                                       gre_to(b(4), syn_a, h_a, 100))}));

  const Bytes tos = tcp4(kClient4, 40000, kWeb4, 80).tos(0xb8).syn().build();
  const uint8_t opts[] = {1, 1, 1, 0};  // NOP NOP NOP EOL
  const Bytes with_opts = tcp4(kClient4, 40000, kWeb4, 80).ipv4_options(opts).syn().build();
  Bytes padded = from_router(syn_a);
  padded.resize(padded.size() + 6);  // Ethernet padding after the datagram
  cases.push_back(make(
      "InnerPacketIsCarriedUnchanged",
      {expect_tx("TOS 0xb8 is copied to the outer header", from_router(tos),
                 gre_to(b(4), tos, h_a)),
       expect_tx("IPv4 options are carried", from_router(with_opts), gre_to(b(4), with_opts, h_a)),
       expect_tx("Ethernet padding is not", padded, gre_to(b(4), syn_a, h_a))}));

  Bytes gre_keyed = PacketBuilder()
                        .eth(kRouterMac, kNodeMac)
                        .ipv4(ip("198.18.1.254"), kNode4)
                        .gre()
                        .gre_key(7)
                        .gre_sequence(9)
                        .gre_protocol(kEtherTypeIpv4)
                        .payload(syn_a)
                        .build();
  const Bytes not_vip = tcp4(kClient4, 40000, kNotVip4, 80).syn().build();
  cases.push_back(
      make("GreIngressFromTheRouterIsBalancedByItsInnerPacket",
           {expect_tx("GRE from the router around a SYN to web4 -> GRE to b4",
                      gre_from_router(syn_a), gre_to(b(4), syn_a, h_a)),
            expect_tx("GRE with key and sequence fields", gre_keyed, gre_to(b(4), syn_a, h_a)),
            expect_tx("GRE around IPv6 -> GRE/IPv6 to c3", gre_from_router(syn6),
                      gre_to(c(3), syn6, h6)),
            expect_pass("GRE whose inner packet is not for a VIP", gre_from_router(not_vip)),
            expect_pass("GRE to an address that is not an ingress address",
                        PacketBuilder()
                            .eth(kRouterMac, kNodeMac)
                            .ipv4(ip("198.18.1.254"), ip("198.18.1.99"))
                            .gre()
                            .gre_protocol(kEtherTypeIpv4)
                            .payload(syn_a)
                            .build()),
            expect_drop("GRE version 1",
                        PacketBuilder()
                            .eth(kRouterMac, kNodeMac)
                            .ipv4(ip("198.18.1.254"), kNode4)
                            .gre()
                            .gre_version(1)
                            .gre_protocol(kEtherTypeIpv4)
                            .payload(syn_a)
                            .build(),
                        RAIL_DROP_UNSUPPORTED_ENCAP),
            expect_drop("GRE carrying something other than IP",
                        PacketBuilder()
                            .eth(kRouterMac, kNodeMac)
                            .ipv4(ip("198.18.1.254"), kNode4)
                            .gre()
                            .gre_protocol(kEtherTypeArp)
                            .payload(syn_a)
                            .build(),
                        RAIL_DROP_UNSUPPORTED_ENCAP),
            expect_drop("GRE header cut short",
                        PacketBuilder()
                            .eth(kRouterMac, kNodeMac)
                            .ipv4(ip("198.18.1.254"), kNode4)
                            .protocol(kIpProtoGre)
                            .payload("\x20")
                            .build(),
                        RAIL_DROP_MALFORMED_ENCAP)}));

  cases.push_back(make(
      "TrafficThatIsNotForAVipPassesToTheHost",
      {expect_pass("IPv4 to another address", from_router(not_vip)),
       expect_pass("IPv6 to another address",
                   from_router(tcp6(kClient6, 40000, ip("2001:db8:200::1"), 80).syn().build())),
       expect_pass("ARP", PacketBuilder()
                              .eth(kRouterMac, kNodeMac)
                              .ethertype(kEtherTypeArp)
                              .payload(Bytes(28, 0))
                              .build())}));
  return cases;
}

}  // namespace

std::vector<Case> edge_cases();  // golden_cases_edge.cc

const std::vector<Case>& golden_cases() {
  static const std::vector<Case> all = [] {
    std::vector<Case> cases = basic_cases();
    for (Case& c : edge_cases()) cases.push_back(std::move(c));
    return cases;
  }();
  return all;
}

}  // namespace rail::golden
