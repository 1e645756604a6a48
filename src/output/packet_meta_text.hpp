// SPDX-License-Identifier: GPL-2.0-only
// The one textual form of a packet's metadata, for every capture point:
// the pcapng packet comment and what the terminal printer shows after the
// decoded packet say the same thing in the same words.
#pragma once

#include <string>

#include "core/packet.hpp"

namespace capx {

// Appends the facts `meta` has, in this order and these words, separated
// by spaces (each only when filled):
//
//   dev=IFINDEX(NAME) port=P queue=Q netns=INODE cpu=C pid=P tid=T comm=C
//   skb=0xADDR mbuf=0xADDR vlan=V verdict=ACTION drop=REASON stack: a;b;c
//
// "(NAME)" only when the name is known; drop= takes the reason's name when
// the source has one, else its number. Appends nothing when there are none.
// The direction is not among them: pcapng has a flag for it and the
// printer its own word (In/Out, as tcpdump).
// Built with to_chars rather than fmt: it runs for every packet.
void append_meta(std::string &out, const PacketMeta &meta);

// The same as a new string.
std::string describe_meta(const PacketMeta &meta);

} // namespace capx
