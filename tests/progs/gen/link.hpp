// SPDX-License-Identifier: GPL-2.0-only
// The interface capx-gen sends on: its index and how big a frame it takes.
#pragma once

#include <cstddef>
#include <string>

#include "core/error.hpp"

namespace capx::gen {

struct Link {
	std::string name;
	unsigned index = 0;
	unsigned mtu = 0;

	// Largest frame (no FCS) the device accepts: MTU + Ethernet header,
	// + 4 with a VLAN tag (af_packet.c: packet_snd's length check allows a
	// VLAN header beyond the MTU for 802.1Q frames).
	std::size_t max_frame(bool tagged) const { return mtu + 14 + (tagged ? 4 : 0); }

	// Fails with a usage error when the interface does not exist.
	[[nodiscard]] static Result<Link> find(const std::string &name);
};

} // namespace capx::gen
