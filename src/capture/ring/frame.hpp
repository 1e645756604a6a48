// SPDX-License-Identifier: GPL-2.0-only
// Reading a TPACKET_V3 block: each tpacket3_hdr frame becomes the PacketView
// capx writes. Two rewrites happen in place, in the PACKET_RESERVE room the
// kernel leaves in front of every packet (so nothing is copied):
//  - a VLAN tag the kernel took out of the bytes into tp_vlan_tci
//    (TP_STATUS_VLAN_VALID) is put back after the MAC addresses, and the
//    lengths grow by 4, so the bytes are those that were on the wire;
//  - on a cooked (SOCK_DGRAM) socket, which delivers no link header, the
//    LINUX_SLL2 header is built from the frame's sockaddr_ll.
// The block belongs to user space (TP_STATUS_USER) while this runs.
#pragma once

#include <linux/if_packet.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/packet.hpp"
#include "core/snaplen.hpp"

namespace capx::ring {

// The bytes PACKET_RESERVE asks for: an SLL2 header plus a VLAN tag fits.
inline constexpr std::uint32_t kFrameReserve = 32;

struct FrameLayout {
	bool cooked = false;           // SOCK_DGRAM: write LINUX_SLL2, else the frame as is
	std::uint32_t snaplen = kMaxSnaplen;
};

struct PreparedFrame {
	PacketView view;
	bool tag_restored = false;     // the bytes differ from what the kernel filter saw
	bool truncated_by_ring = false;// the block was too small for the packet
	bool hardware_timestamp = false;
};

// Where the kernel puts the sockaddr_ll of each frame:
// TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) (tpacket_rcv, net/packet/af_packet.c).
inline constexpr std::size_t kSockaddrOffset = TPACKET_ALIGN(sizeof(tpacket3_hdr));
// The smallest tp_mac of a well-formed frame: the packet after the sockaddr_ll.
inline constexpr std::size_t kMinMacOffset = kSockaddrOffset + sizeof(sockaddr_ll);

inline Direction direction_of(std::uint8_t pkttype)
{
	switch (pkttype) {
	case PACKET_OUTGOING:
		return Direction::Outbound;
	case PACKET_HOST:
	case PACKET_BROADCAST:
	case PACKET_MULTICAST:
	case PACKET_OTHERHOST:
		return Direction::Inbound;
	default:
		return Direction::Unknown;
	}
}

// The frames that need more than reading the header: a stripped VLAN tag
// to put back, an SLL2 header to build, a frame that claims to pass the end
// of its block.
void prepare_frame_slow(std::uint8_t *frame, std::size_t room, const FrameLayout &layout, PreparedFrame &out);

// Turns the frame at `frame` (a tpacket3_hdr followed by its sockaddr_ll
// and, tp_mac bytes in, the packet) into `out`, which the caller keeps from
// frame to frame: every field above that a ring frame can have is set on
// every call (the rest of the PacketView, ~170 bytes of optional metadata
// a ring never fills, is left as it is instead of being built again per
// packet). `room` is the number of bytes from `frame` to the end of its
// block, for bounds checks. Inline: it runs once per packet, and the
// common frame (Ethernet, no stripped tag) is a few loads and stores.
inline void prepare_frame(std::uint8_t *frame, std::size_t room, const FrameLayout &layout, PreparedFrame &out)
{
	const auto &h = *reinterpret_cast<const tpacket3_hdr *>(frame);
	if (layout.cooked || (h.tp_status & TP_STATUS_VLAN_VALID) || h.tp_mac < kMinMacOffset || h.tp_mac > room)
		[[unlikely]] {
		prepare_frame_slow(frame, room, layout, out);
		return;
	}
	const auto &sll = *reinterpret_cast<const sockaddr_ll *>(frame + kSockaddrOffset);
	const std::uint32_t fits = room - h.tp_mac < h.tp_snaplen ? static_cast<std::uint32_t>(room - h.tp_mac)
								   : h.tp_snaplen;
	const std::uint32_t wire = h.tp_len;
	const std::uint32_t wanted = wire < layout.snaplen ? wire : layout.snaplen;
	out.truncated_by_ring = fits < wanted;
	out.tag_restored = false;
	out.hardware_timestamp = h.tp_status & TP_STATUS_TS_RAW_HARDWARE;
	out.view.timestamp_ns = static_cast<std::uint64_t>(h.tp_sec) * 1'000'000'000ull + h.tp_nsec;
	out.view.wire_len = wire;
	out.view.data = {frame + h.tp_mac, fits < wanted ? fits : wanted};
	out.view.meta.direction = direction_of(sll.sll_pkttype);
	out.view.meta.ifindex = static_cast<std::uint32_t>(sll.sll_ifindex);
	out.view.meta.vlan_tci.reset();
}

// The same, into a new PreparedFrame.
inline PreparedFrame prepare_frame(std::uint8_t *frame, std::size_t room, const FrameLayout &layout)
{
	PreparedFrame out;
	prepare_frame(frame, room, layout, out);
	return out;
}

// Where a walk over a block's frames stands: frames visited so far and the
// offset of the next one (0: the walk has not started).
struct FrameCursor {
	std::uint32_t visited = 0;
	std::size_t offset = 0;
};

// Calls `f(frame, room)` for each frame of a block from `at` on, in order,
// stopping at the first frame whose offsets do not fit in the block, or
// after a frame for which `f` returned false (`at` then points past it, so
// a later call resumes there: a frame is never handed out twice, which
// matters because prepare_frame rewrites it in place). Returns true when
// the block has no frames left.
//
// The frames were written by the kernel on another CPU (a veth or NIC
// delivers in the sender's or the IRQ's softirq), so each of their cache
// lines is a miss here, and the next frame is only known from this one's
// tp_next_offset (a dependent load). The kernel lays a block's frames out
// back to back (__packet_lookup_frame_in_block and prb_fill_curr_block,
// net/packet/af_packet.c: the next frame starts at the aligned end of the
// one before), so the lines a fixed distance ahead belong to a few frames
// later: the walk asks for them early. Measured, 64-byte frames at 1 Mpps
// to /dev/null (bench/ring/split.sh, 6 runs each): median 55 ns per packet
// against 64 without. kPrefetchSpan covers a small frame's header, address
// and data; a large frame's copy streams through its data by itself.
inline constexpr std::size_t kPrefetchAhead = 1024;
inline constexpr std::size_t kPrefetchSpan = 192;

template<typename F>
bool walk_frames(std::span<std::uint8_t> block, FrameCursor &at, F &&f)
{
	auto *desc = reinterpret_cast<const tpacket_block_desc *>(block.data());
	const std::uint32_t count = desc->hdr.bh1.num_pkts;
	// In locals, stored back on the way out: `f` may write anywhere
	// through a byte pointer, which would otherwise make the compiler
	// reload and store the cursor around every frame.
	std::uint32_t visited = at.visited;
	std::size_t offset = at.offset == 0 ? desc->hdr.bh1.offset_to_first_pkt : at.offset;
	std::uint8_t *const data = block.data();
	const std::size_t size = block.size();
	bool done = true;
	while (visited < count) {
		if (offset + sizeof(tpacket3_hdr) > size)
			break;
		auto *frame = data + offset;
		if (offset + kPrefetchAhead + kPrefetchSpan <= size) [[likely]] {
			for (std::size_t line = 0; line < kPrefetchSpan; line += 64)
				__builtin_prefetch(frame + kPrefetchAhead + line);
		}
		const std::uint32_t next = reinterpret_cast<const tpacket3_hdr *>(frame)->tp_next_offset;
		visited++;
		const bool more = f(frame, size - offset);
		if (next == 0)
			break;
		offset += next;
		if (!more) {
			done = visited >= count;
			break;
		}
	}
	at.visited = visited;
	at.offset = offset;
	return done;
}

// Calls `f(frame, room)` for each frame of a block, in order.
template<typename F>
void for_each_frame(std::span<std::uint8_t> block, F &&f)
{
	FrameCursor at;
	walk_frames(block, at, [&](std::uint8_t *frame, std::size_t room) {
		f(frame, room);
		return true;
	});
}

} // namespace capx::ring
