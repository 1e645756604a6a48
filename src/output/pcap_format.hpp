// SPDX-License-Identifier: GPL-2.0-only
// The classic pcap file format (pcap-savefile(5); IETF
// draft-ietf-opsawg-pcap): one file header, then a 16-byte header and the
// captured bytes per packet. Microsecond or, with --nano, nanosecond
// timestamps.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "output/record_format.hpp"

namespace capx {

class PcapFormat final : public RecordFormat {
public:
	explicit PcapFormat(bool nanoseconds) : nanoseconds_(nanoseconds) {}

	// pcap holds one link type per file: capture points with different
	// link types are a usage error that points to --pcapng.
	[[nodiscard]] Result<void> configure(std::span<const CapturePoint> points) override;
	std::span<const std::uint8_t> file_header() const override { return header_; }
	[[nodiscard]] Result<std::size_t> measure(const PacketView &packet) override;
	void encode(const PacketView &packet, std::uint8_t *out) override;
	[[nodiscard]] Result<std::size_t> encode_batch(PacketBatch batch, std::uint8_t *out, std::size_t room,
					 std::uint32_t *sizes) override;

	static constexpr std::size_t kFileHeaderSize = 24;
	static constexpr std::size_t kRecordHeaderSize = 16;

private:
	// The record: its captured length, and its bytes (used by encode and
	// encode_batch alike).
	std::uint32_t caplen_of(const PacketView &packet) const
	{
		// A record never holds more than the file's snaplen: readers
		// (libpcap) treat a larger caplen as a corrupt file.
		return static_cast<std::uint32_t>(std::min<std::size_t>(packet.data.size(), snaplen_));
	}
	void encode_record(const PacketView &packet, std::uint32_t caplen, std::uint8_t *out) const;

	bool nanoseconds_;
	std::uint32_t snaplen_ = 0;
	std::uint32_t caplen_ = 0; // of the record measured last
	std::array<std::uint8_t, kFileHeaderSize> header_{};
};

} // namespace capx
