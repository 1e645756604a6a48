// SPDX-License-Identifier: GPL-2.0-only
// LINKTYPE_LINUX_SLL2 (276): the 20-byte "cooked" header capx writes in
// front of packets captured on `-i any`, where the socket (SOCK_DGRAM)
// delivers no link-layer header. Layout, all fields big-endian, from
// tcpdump.org's LINKTYPE_LINUX_SLL2 page and libpcap's pcap/sll.h
// (struct sll2_header):
//   0  protocol type (ethertype)      2 bytes
//   2  reserved, must be zero         2 bytes
//   4  interface index                4 bytes
//   8  ARPHRD_ type                   2 bytes
//  10  packet type (PACKET_HOST...)   1 byte
//  11  link-layer address length      1 byte
//  12  link-layer address, 0-padded   8 bytes
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace capx::ring {

inline constexpr std::size_t kSll2HeaderLen = 20;

struct Sll2Fields {
	std::uint16_t protocol = 0;    // host order
	std::uint32_t ifindex = 0;
	std::uint16_t hatype = 0;
	std::uint8_t pkttype = 0;
	std::span<const std::uint8_t> address; // at most 8 bytes are kept
};

// Writes the header into `out` (kSll2HeaderLen bytes).
void write_sll2_header(std::uint8_t *out, const Sll2Fields &fields);

} // namespace capx::ring
