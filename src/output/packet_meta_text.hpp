// SPDX-License-Identifier: GPL-2.0-only
// The one textual form of a packet's metadata, shared by the pcapng comment
// and the terminal printer so both say the same thing.
#pragma once

#include <string>

#include "core/packet.hpp"

namespace capx {

// "if=3 netns=4026531840 cpu=1 pid=42 comm=curl skb=0xffff... reason=NO_SOCKET"
// Only the fields the source filled appear; empty when there are none.
// Direction is left out: pcapng has a flag for it and the printer its own word.
std::string describe_meta(const PacketMeta &meta);

} // namespace capx
