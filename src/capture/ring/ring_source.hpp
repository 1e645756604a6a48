// SPDX-License-Identifier: GPL-2.0-only
// `capx ring`: AF_PACKET TPACKET_V3 rings, one per thread, joined in one
// PACKET_FANOUT group when there are several.
//
// The pipeline's thread reads the blocks the kernel retires, in ring order:
// each frame becomes a PacketView (VLAN tag restored, SLL2 built, the
// user-space part of the filter run, see ring_filter.hpp) handed straight
// to the consumer, and the block goes back to the kernel as soon as its
// packets are written. With one socket that is all (no other thread, like
// libpcap). With several, one reader thread per socket only waits for its
// socket's retired blocks and queues them; one flow maps to one socket and
// a socket's blocks are queued in ring order, so packets of a flow stay in
// order in the one output.
#pragma once

#include <memory>

#include "capture/ring/ring_config.hpp"
#include "capture/source.hpp"
#include "filter/cbpf.hpp"

namespace capx::ring {

// The link type capx writes for `config.interface` and the filter compiled
// for it. Needs no privileges (for -d).
[[nodiscard]] Result<CbpfProgram> compile_filter(const RingConfig &config);

class RingSource {
public:
	[[nodiscard]] static Result<std::unique_ptr<Source>> make(const RingConfig &config);
};

} // namespace capx::ring
