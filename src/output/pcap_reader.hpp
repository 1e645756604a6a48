// SPDX-License-Identifier: GPL-2.0-only
// Reads pcap (µs or ns, either byte order) and pcapng (Enhanced and Simple
// Packet Blocks, any section byte order) files record by record. Used by
// `capx filter -r` and by tests that replay tcpdump's captures.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/packet.hpp"

namespace capx {

class PcapReader {
public:
	struct Record {
		std::uint64_t timestamp_ns = 0;
		std::uint32_t wire_len = 0;
		std::uint32_t interface = 0;  // pcapng interface id; 0 for pcap
		std::vector<std::uint8_t> data;
	};

	// "-" reads standard input.
	[[nodiscard]] static Result<PcapReader> open(const std::string &path);

	// The next record, std::nullopt at a clean end of file; a truncated or
	// malformed record is an error.
	[[nodiscard]] Result<std::optional<Record>> next();

	// Link type of the file (pcap) or of the first interface (pcapng).
	std::uint16_t linktype() const { return linktype_; }
	std::uint32_t snaplen() const { return snaplen_; }
	bool is_pcapng() const { return pcapng_; }
	// pcapng: link types by interface id, as the IDBs declared them.
	const std::vector<std::uint16_t> &interface_linktypes() const { return if_linktypes_; }

private:
	struct FileCloser {
		void operator()(std::FILE *f) const;
	};

	[[nodiscard]] Result<bool> read_exact(void *buf, std::size_t n, bool eof_ok);
	[[nodiscard]] Result<std::optional<Record>> next_pcap();
	[[nodiscard]] Result<std::optional<Record>> next_pcapng();
	[[nodiscard]] Result<void> parse_section_header(const std::vector<std::uint8_t> &body);
	std::uint32_t u32(const std::uint8_t *p) const;
	std::uint16_t u16(const std::uint8_t *p) const;

	std::unique_ptr<std::FILE, FileCloser> file_;
	std::string path_;
	bool pcapng_ = false;
	bool swapped_ = false;
	bool nanos_ = false;
	std::uint16_t linktype_ = 0;
	std::uint32_t snaplen_ = 0;
	std::vector<std::uint16_t> if_linktypes_;
	std::vector<std::uint64_t> if_ticks_per_sec_;
};

} // namespace capx
