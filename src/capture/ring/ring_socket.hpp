// SPDX-License-Identifier: GPL-2.0-only
// One AF_PACKET socket with its TPACKET_V3 receive ring, set up so that no
// packet is seen before the socket is complete:
//  1. socket(AF_PACKET, type, protocol 0): with protocol 0 the socket is not
//     hooked into the receive path at all (packet_create,
//     net/packet/af_packet.c, registers the hook only for a non-zero
//     protocol);
//  2. version, reserve, timestamps, ring and mmap; a drop-all filter;
//  3. bind(ETH_P_ALL, ifindex): packets start flowing, into the drop-all filter;
//  4. fanout group (when --threads > 1) — a member that saw packets before
//     joining would duplicate them, hence the drop-all filter until here;
//  5. the real filter replaces the drop-all one, and is locked
//     (SO_LOCK_FILTER) so nothing that inherits the fd can change it.
// The promiscuous mode is a PACKET_ADD_MEMBERSHIP, which the kernel undoes
// when the socket closes (packet_flush_mclist), however capx exits.
#pragma once

#include <linux/filter.h>
#include <linux/if_packet.h>

#include <cstdint>
#include <span>

#include "capture/ring/interface.hpp"
#include "capture/ring/ring_config.hpp"
#include "core/error.hpp"
#include "core/mapped_memory.hpp"
#include "core/unique_fd.hpp"

namespace capx::ring {

struct RingStats {
	std::uint64_t packets = 0;     // tp_packets: passed the filter (drops included)
	std::uint64_t drops = 0;       // tp_drops: the ring was full
	std::uint64_t freezes = 0;     // tp_freeze_q_cnt: times the ring froze
};

class RingSocket {
public:
	// Steps 1-3 above.
	[[nodiscard]] static Result<RingSocket> open(const Interface &iface, bool cooked, const RingConfig &config);

	// Step 4. The first member creates the group (kernel-chosen id, returned);
	// the others join `id`.
	[[nodiscard]] Result<std::uint16_t> create_fanout(FanoutMode mode);
	[[nodiscard]] Result<void> join_fanout(std::uint16_t id, FanoutMode mode);

	// Step 5.
	[[nodiscard]] Result<void> attach_filter(std::span<const sock_filter> program, bool lock);

	// PACKET_STATISTICS resets the kernel's counters on every read; the
	// caller accumulates.
	[[nodiscard]] Result<RingStats> read_stats();

	int fd() const { return fd_.get(); }
	unsigned block_count() const { return block_count_; }
	std::span<std::uint8_t> block(unsigned index) const
	{
		return {ring_.data() + std::size_t(index) * block_size_, block_size_};
	}

	// The block's owner flag: TP_STATUS_USER when the kernel has retired it
	// to us; TP_STATUS_KERNEL gives it back.
	static bool owned_by_user(std::span<std::uint8_t> block);
	static void give_back(std::span<std::uint8_t> block);

	// The error the kernel reported on the socket (SO_ERROR), e.g. ENETDOWN.
	int pending_error() const;

private:
	UniqueFd fd_;            // declared first: unmapped before closed
	MappedMemory ring_;
	std::size_t block_size_ = 0;
	unsigned block_count_ = 0;
};

} // namespace capx::ring
