// SPDX-License-Identifier: GPL-2.0-only
// capx's own packet decoder: one tcpdump -nn style line per packet, for the
// terminal printer. Never reads past the captured bytes; a packet cut short
// prints what it has and then tcpdump's "[|proto]" marker.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace capx {

// Appends the description of one packet to `out`: no timestamp, no newline.
// `linktype` is the capture point's DLT (Ethernet, LINUX_SLL, LINUX_SLL2,
// RAW; others print "linktype N, length L"). `wire_len` is the length on the
// wire; `data` may be shorter (snaplen). Allocates nothing but `out`'s growth.
void decode_packet(std::string &out, std::uint16_t linktype,
		   std::span<const std::uint8_t> data, std::uint32_t wire_len);

} // namespace capx
