// The golden cases, part 2: ICMP (echo, errors, neighbour discovery), fragments, packets too
// big once encapsulated, malformed input, and configurations that leave nowhere to send.
#include <algorithm>

#include "golden/golden_cases.h"

#include "core/packet/headers.h"

namespace rail::golden {

using namespace rail::packet;

namespace {

Case make(std::string name, std::vector<Step> steps) {
  return Case{std::move(name), sample_config(), std::move(steps)};
}

Bytes first(const Bytes& bytes, size_t n) {
  return Bytes(bytes.begin(), bytes.begin() + long(std::min(n, bytes.size())));
}

// A frame from the router back to the router: what the node sends when it answers itself.
PacketBuilder reply_frame() {
  PacketBuilder f;
  f.eth(kNodeMac, kRouterMac);
  return f;
}

const IpAddress kPathRouter4 = ip("198.18.3.1");  // a router between backends and clients
const IpAddress kPathRouter6 = ip("2001:db8:3::1");

}  // namespace

std::vector<Case> edge_cases() {
  std::vector<Case> cases;
  const uint8_t kTcp = kIpProtoTcp;

  // --- ICMP echo and neighbour discovery (§2.6, §8) ---
  const Bytes ping4 = PacketBuilder()
                          .ipv4(kClient4, kWeb4)
                          .id(0x1234)
                          .icmp_echo_request(7, 1)
                          .payload("ping")
                          .build();
  const Bytes pong4 =
      reply_frame().ipv4(kWeb4, kClient4).id(0x1234).icmp_echo_reply(7, 1).payload("ping").build();
  const Bytes ping6 =
      PacketBuilder().ipv6(kClient6, kWeb6).icmpv6_echo_request(7, 1).payload("ping").build();
  const Bytes pong6 =
      reply_frame().ipv6(kWeb6, kClient6).icmpv6_echo_reply(7, 1).payload("ping").build();
  cases.push_back(
      make("IcmpEchoToAVipIsAnsweredByTheNode",
           {expect_tx("ping web4 -> echo reply from web4", from_router(ping4), pong4),
            expect_tx("ping web6 -> echo reply from web6", from_router(ping6), pong6),
            expect_tx("ping through GRE ingress -> plain reply", gre_from_router(ping4), pong4),
            expect_pass("neighbour solicitation for web6 goes to the host",
                        from_router(PacketBuilder()
                                        .ipv6(kClient6, kWeb6)
                                        .icmpv6_neighbor_solicitation(kWeb6)
                                        .build()))}));
  Case no_echo =
      make("IcmpEchoCanBeTurnedOff",
           {expect_drop("ping web4 with icmp_echo off", from_router(ping4), RAIL_DROP_ICMP_ECHO)});
  no_echo.config.node.icmp_echo = false;
  cases.push_back(std::move(no_echo));

  // --- ICMP errors about replies from a VIP go to the flow's backend (§5) ---
  const Bytes syn_a = tcp4(kClient4, 40000, kWeb4, 80).syn().build();
  const uint32_t h_a = hash_of(kClient4, 40000, kWeb4, 80, kTcp);
  const Bytes reply_a = tcp4(kWeb4, 80, kClient4, 40000).syn().ack().payload("hello").build();
  const Bytes frag_needed =
      PacketBuilder().ipv4(kPathRouter4, kWeb4).icmp_frag_needed(1400).payload(reply_a).build();
  const Bytes stray_quote = tcp4(ip("198.18.100.9"), 80, kClient4, 40000).ack().build();
  const Bytes unmatched =
      PacketBuilder().ipv4(kPathRouter4, kWeb4).icmp_frag_needed(1400).payload(stray_quote).build();
  const Bytes syn6 = tcp6(kClient6, 40000, kWeb6, 80).syn().build();
  const uint32_t h6 = hash_of(kClient6, 40000, kWeb6, 80, kTcp);
  const Bytes reply6 = tcp6(kWeb6, 80, kClient6, 40000).syn().ack().build();
  const Bytes too_big6 =
      PacketBuilder().ipv6(kPathRouter6, kWeb6).icmpv6_packet_too_big(1280).payload(reply6).build();
  cases.push_back(make("IcmpErrorsReachTheBackendOfTheQuotedFlow",
                       {expect_tx("SYN -> b4", from_router(syn_a), gre_to(b(4), syn_a, h_a)),
                        expect_tx("fragmentation needed about web4:80 -> client:40000 -> b4",
                                  from_router(frag_needed), gre_to(b(4), frag_needed, h_a)),
                        expect_drop("an error quoting a packet not from this VIP",
                                    from_router(unmatched), RAIL_DROP_ICMP_UNMATCHED),
                        expect_drop("an error whose quote is cut short",
                                    from_router(PacketBuilder()
                                                    .ipv4(kPathRouter4, kWeb4)
                                                    .icmp_frag_needed(1400)
                                                    .payload(first(reply_a, 24))
                                                    .build()),
                                    RAIL_DROP_ICMP_UNMATCHED),
                        expect_tx("IPv6 packet too big about web6 -> c3 (Maglev: no entry needed)",
                                  from_router(too_big6), gre_to(c(3), too_big6, h6)),
                        expect_tx("SYN to web6 -> c3 (same backend as its error went to)",
                                  from_router(syn6), gre_to(c(3), syn6, h6))}));

  // --- Fragments (§4) ---
  // udp 198.18.0.10:5001 -> web4:53 picks b4 by its 5-tuple; its 3-tuple picks b1.
  const Bytes frag1 = udp4(kClient4, 5001, kWeb4, 53).id(99).mf().payload(Bytes(16, 0xab)).build();
  const Bytes frag2 = PacketBuilder()
                          .ipv4(kClient4, kWeb4)
                          .id(99)
                          .frag_offset(3)
                          .protocol(kIpProtoUdp)
                          .payload(Bytes(16, 0xcd))
                          .build();
  const Bytes stray = PacketBuilder()
                          .ipv4(kClient4, kWeb4)
                          .id(100)
                          .frag_offset(3)
                          .protocol(kIpProtoUdp)
                          .payload(Bytes(16, 0xef))
                          .build();
  cases.push_back(
      make("FragmentsFollowTheirFirstFragment",
           {expect_tx("first fragment: 5-tuple -> b4", from_router(frag1), ipip_to(b(4), frag1, 0)),
            expect_tx("its second fragment follows it by IP ID -> b4", from_router(frag2),
                      ipip_to(b(4), frag2, 0)),
            expect_tx("a later fragment with no state: 3-tuple -> b1", from_router(stray),
                      ipip_to(b(1), stray, 0))}));

  // udp [2001:db8:c::10]:5002 -> web6:53 picks c4 by its 5-tuple.
  const Bytes frag6a = PacketBuilder()
                           .ipv6(kClient6, kWeb6)
                           .fragment_header(0, true, 0x4242)
                           .udp(5002, 53)
                           .payload(Bytes(16, 0xab))
                           .build();
  // A later fragment: its bytes are mid-datagram data; built with a UDP layer so that the
  // fragment header announces UDP as the upper-layer protocol.
  const Bytes frag6b = PacketBuilder()
                           .ipv6(kClient6, kWeb6)
                           .fragment_header(2, false, 0x4242)
                           .udp(1, 1)
                           .payload(Bytes(8, 0xcd))
                           .build();
  const uint32_t h6u = hash_of(kClient6, 5002, kWeb6, 53, kIpProtoUdp);
  const uint32_t h6u3 = hash_of(kClient6, 0, kWeb6, 0, kIpProtoUdp, RAIL_HASH_3TUPLE);
  cases.push_back(make(
      "Ipv6FragmentsFollowTheirFirstFragment",
      {expect_tx("first fragment: 5-tuple -> c4", from_router(frag6a), ipip_to(c(4), frag6a, h6u)),
       expect_tx("the last fragment follows it -> c4 (flow label from the 3-tuple: no ports here)",
                 from_router(frag6b), ipip_to(c(4), frag6b, h6u3))}));

  // --- Too big once encapsulated (§7): 1500 - 24 (IPv4 + GRE) = 1476 usable ---
  const Bytes big_df =
      tcp4(kClient4, 40000, kWeb4, 80).df().ack().payload(Bytes(1440, 'x')).build();
  const Bytes big_nodf = tcp4(kClient4, 40000, kWeb4, 80).ack().payload(Bytes(1440, 'x')).build();
  const Bytes fits = tcp4(kClient4, 40000, kWeb4, 80).df().ack().payload(Bytes(1436, 'x')).build();
  const Bytes big6 = tcp6(kClient6, 40000, kWeb6, 80).ack().payload(Bytes(1420, 'x')).build();
  cases.push_back(
      make("PacketsTooBigOnceEncapsulatedAreAnsweredWithIcmp",
           {expect_tx("1480-byte IPv4 packet with DF -> fragmentation needed, MTU 1476",
                      from_router(big_df),
                      reply_frame()
                          .ipv4(kWeb4, kClient4)
                          .icmp_frag_needed(1476)
                          .payload(first(big_df, 128))
                          .build()),
            expect_drop("the same without DF", from_router(big_nodf), RAIL_DROP_TOO_BIG_NO_DF),
            expect_tx("1476 bytes fit exactly", from_router(fits), gre_to(b(4), fits, h_a)),
            expect_tx("1480-byte IPv6 packet -> packet too big, MTU 1456", from_router(big6),
                      reply_frame()
                          .ipv6(kWeb6, kClient6)
                          .icmpv6_packet_too_big(1456)
                          .payload(first(big6, 128))
                          .build())}));

  // --- Malformed input (§2) ---
  const Bytes syn = from_router(syn_a);
  cases.push_back(make(
      "MalformedFramesAreDroppedWithTheirReason",
      {expect_drop("Ethernet header cut short", first(syn, 10), RAIL_DROP_MALFORMED_L2),
       expect_drop("802.1Q tag cut short", first(from_router(syn_a, 5), 16),
                   RAIL_DROP_MALFORMED_L2),
       expect_drop("IPv4 IHL 4", from_router(tcp4(kClient4, 40000, kWeb4, 80).ihl(4).syn().build()),
                   RAIL_DROP_MALFORMED_L3),
       expect_drop("IPv4 total length beyond the frame",
                   from_router(tcp4(kClient4, 40000, kWeb4, 80).ip_length(200).syn().build()),
                   RAIL_DROP_MALFORMED_L3),
       expect_drop("IPv4 header cut short", first(syn, 14 + 12), RAIL_DROP_MALFORMED_L3),
       expect_drop(
           "TCP header cut short (IP length says so)",
           from_router(
               tcp4(kClient4, 40000, kWeb4, 80).ip_length(20 + 12).syn().truncate(20 + 12).build()),
           RAIL_DROP_MALFORMED_L4),
       expect_drop("five IPv6 extension headers",
                   from_router(PacketBuilder()
                                   .ipv6(kClient6, kWeb6)
                                   .hop_by_hop()
                                   .dest_options()
                                   .routing_header()
                                   .dest_options()
                                   .dest_options()
                                   .tcp(40000, 80)
                                   .syn()
                                   .build()),
                   RAIL_DROP_MALFORMED_L3)}));

  // --- Nowhere to send (§2.6, §3, §6) ---
  cases.push_back(make(
      "NoServiceOnThatPortOrProtocol",
      {expect_drop("tcp to web4:22", from_router(tcp4(kClient4, 40000, kWeb4, 22).syn().build()),
                   RAIL_DROP_NO_SERVICE),
       expect_drop(
           "SCTP to web4",
           from_router(
               PacketBuilder().ipv4(kClient4, kWeb4).protocol(132).payload(Bytes(12, 0)).build()),
           RAIL_DROP_NO_SERVICE)}));
  Case none = make("NoUsableBackend",
                   {expect_drop("every backend of web4:80 down", syn, RAIL_DROP_NO_BACKEND)});
  for (Backend& be : service(none.config, kWeb4, Protocol::kTcp, 80).backends)
    be.state = BackendState::kDown;
  cases.push_back(std::move(none));
  Case nomac = make("BackendNextHopNotResolvedYet",
                    {expect_drop("b4's MAC unknown", syn, RAIL_DROP_NO_NEXTHOP)});
  service(nomac.config, kWeb4, Protocol::kTcp, 80).backends[3].next_hop_mac = MacAddress();
  cases.push_back(std::move(nomac));
  return cases;
}

}  // namespace rail::golden
