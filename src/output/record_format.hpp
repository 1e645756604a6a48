// SPDX-License-Identifier: GPL-2.0-only
// A capture file format as the file sinks see it: the bytes every file
// starts with, then one self-contained record per packet. pcap and pcapng
// implement it; rotation and buffering never look inside the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.hpp"
#include "core/packet.hpp"

namespace capx {

class RecordFormat {
public:
	virtual ~RecordFormat() = default;

	// Checks that the capture points fit the format and builds the file
	// header for them. Called once, before any record.
	[[nodiscard]] virtual Result<void> configure(std::span<const CapturePoint> points) = 0;

	// What every file starts with (a rotated file too): the pcap file
	// header, or a pcapng Section Header Block and one Interface
	// Description Block per capture point.
	virtual std::span<const std::uint8_t> file_header() const = 0;

	// The exact size of the record for `packet`. The caller then reserves
	// that much room and calls encode() with the same packet: measuring
	// first lets rotation decide before any byte is written, and lets the
	// record be built in place in the output buffer (no copy).
	[[nodiscard]] virtual Result<std::size_t> measure(const PacketView &packet) = 0;
	virtual void encode(const PacketView &packet, std::uint8_t *out) = 0;

	// Encodes the packets of `batch` from its start, one record after the
	// other at `out`, as many whole records as fit in `room` bytes, and
	// stores each record's size in `sizes`; returns how many it encoded
	// (0: the first does not fit; an error only when the first cannot be
	// measured). The bytes are those of measure() + encode() per packet,
	// which is what this default does; a format overrides it only to save
	// the calls per packet, with the same record code.
	[[nodiscard]] virtual Result<std::size_t> encode_batch(PacketBatch batch, std::uint8_t *out, std::size_t room,
						 std::uint32_t *sizes)
	{
		std::size_t i = 0;
		for (; i < batch.size(); i++) {
			auto size = measure(batch[i]);
			if (!size) {
				if (i == 0)
					return std::unexpected(std::move(size.error()));
				break; // the next call starts with it and reports it
			}
			if (*size > room)
				break;
			encode(batch[i], out);
			out += *size;
			room -= *size;
			sizes[i] = static_cast<std::uint32_t>(*size);
		}
		return i;
	}
};

} // namespace capx
