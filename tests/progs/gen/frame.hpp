// SPDX-License-Identifier: GPL-2.0-only
// The frames capx-gen sends: Ethernet (optionally 802.1Q tagged) / IPv4 /
// UDP, with a payload that starts with a magic and a sequence number. One
// template is built once; per frame only the UDP source port (the flow) and
// the sequence number change, so stamping a frame is a few stores.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/error.hpp"

namespace capx::gen {

// Frame length as handed to the device and as a capture records it (no FCS).
inline constexpr std::size_t min_frame_size = 64;
inline constexpr std::size_t max_frame_size = 9000;

// First bytes of every payload, so a reader can tell capx-gen's frames from
// anything else on the link.
inline constexpr std::array<std::uint8_t, 4> payload_magic = {'C', 'X', 'G', '1'};

struct FrameSpec {
	std::size_t size = 64;
	std::array<std::uint8_t, 6> src_mac{};
	std::array<std::uint8_t, 6> dst_mac{};
	std::uint32_t src_ip = 0; // host byte order
	std::uint32_t dst_ip = 0;
	std::uint16_t src_port_base = 10000;
	std::uint32_t flows = 64; // distinct source ports, so fanout hashes spread
	std::uint16_t dst_port = 9;
	std::optional<std::uint16_t> vlan_id;
};

class FrameTemplate {
public:
	[[nodiscard]] static Result<FrameTemplate> build(const FrameSpec &spec);

	std::size_t size() const { return bytes_.size(); }
	std::span<const std::uint8_t> bytes() const { return bytes_; }

	// Writes frame number `seq` into `out` (at least size() bytes), which
	// already holds a copy of the template.
	void stamp(std::uint8_t *out, std::uint64_t seq) const;

	// Where stamp() writes, for senders that stamp frames elsewhere (the
	// XDP sender's program).
	std::size_t src_port_offset() const { return src_port_offset_; }
	std::size_t seq_offset() const { return seq_offset_; }
	std::uint16_t src_port_base() const { return src_port_base_; }
	std::uint32_t flows() const { return flows_; }

private:
	std::vector<std::uint8_t> bytes_;
	std::size_t src_port_offset_ = 0;
	std::size_t seq_offset_ = 0;
	std::uint16_t src_port_base_ = 0;
	std::uint32_t flows_ = 1;
};

} // namespace capx::gen
