// SPDX-License-Identifier: GPL-2.0-only
// The pcapng file format (IETF draft-ietf-opsawg-pcapng): one Section
// Header Block, one Interface Description Block per capture point, then an
// Enhanced Packet Block per packet carrying what the source knew about it
// (direction, drops, packet id, queue, XDP verdict, a comment).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "output/record_format.hpp"

namespace capx {

// Who wrote the file: shb_os and shb_userappl. Injected so golden files do
// not depend on the host or the version.
struct PcapngIdentity {
	std::string os;          // "Linux 6.1.0-18-amd64" (uname)
	std::string application; // "capx 0.1.0"

	static PcapngIdentity of_this_host();
};

class PcapngFormat final : public RecordFormat {
public:
	explicit PcapngFormat(PcapngIdentity identity) : identity_(std::move(identity)) {}

	[[nodiscard]] Result<void> configure(std::span<const CapturePoint> points) override;
	std::span<const std::uint8_t> file_header() const override { return header_; }
	[[nodiscard]] Result<std::size_t> measure(const PacketView &packet) override;
	void encode(const PacketView &packet, std::uint8_t *out) override;

private:
	PcapngIdentity identity_;
	std::vector<std::uint8_t> header_;
	std::vector<std::uint32_t> snaplens_; // by interface id

	// The record measured last.
	std::uint32_t caplen_ = 0;
	std::uint32_t options_size_ = 0;
	std::uint32_t block_size_ = 0;
	std::string comment_;
};

} // namespace capx
