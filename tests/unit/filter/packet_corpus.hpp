// SPDX-License-Identifier: GPL-2.0-only
// Packets for the differential filter tests: every shape pcap-filter(7)
// talks about, built from a fixed seed (so a failure reproduces), plus the
// captures of tcpdump's own test suite when they are present.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace capx::test {

struct TestPacket {
	std::vector<std::uint8_t> data;  // captured bytes
	std::uint32_t wire_len = 0;      // >= data.size()
	std::string what;                // where it came from, for failure messages
};

// Ethernet frames: IPv4 (options, fragments), IPv6 (extension header
// chains), TCP/UDP/ICMP/ICMPv6/IGMP/SCTP/..., VLAN and QinQ, MPLS, ARP/RARP,
// random bytes, and truncated captures (caplen < wire length) of all these.
std::vector<TestPacket> generated_ethernet_packets(unsigned seed = 1);

// The same for raw IP (LINKTYPE_RAW): IPv4/IPv6 packets without link header.
std::vector<TestPacket> generated_raw_packets(unsigned seed = 2);

// Every packet of $CAPX_SHARED_PCAPS/tcpdump-tests/*.pcap, in file order;
// empty when the folder is absent. At most `max_caplen` bytes of each are kept
// (the wire length stays), 0 = all.
std::vector<TestPacket> shared_pcap_packets(std::uint32_t max_caplen = 0);

// Non-comment lines of tests/data/filter/expressions.txt ($CAPX_TEST_DATA).
std::vector<std::string> corpus_expressions();

} // namespace capx::test
