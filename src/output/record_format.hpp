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
	virtual Result<void> configure(std::span<const CapturePoint> points) = 0;

	// What every file starts with (a rotated file too): the pcap file
	// header, or a pcapng Section Header Block and one Interface
	// Description Block per capture point.
	virtual std::span<const std::uint8_t> file_header() const = 0;

	// The exact size of the record for `packet`. The caller then reserves
	// that much room and calls encode() with the same packet: measuring
	// first lets rotation decide before any byte is written, and lets the
	// record be built in place in the output buffer (no copy).
	virtual Result<std::size_t> measure(const PacketView &packet) = 0;
	virtual void encode(const PacketView &packet, std::uint8_t *out) = 0;
};

} // namespace capx
