// SPDX-License-Identifier: GPL-2.0-only
// Chooses and builds the sink the user asked for: pcap or pcapng to a file
// or stdout (with rotation), decoded text on a terminal, or a tcpdump pipe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "output/sink.hpp"

namespace capx {

struct OutputOptions {
	std::string path;                          // -w; "-" is stdout; empty: see make_sink
	bool nano = false;                         // --nano: pcap with ns timestamps
	bool pcapng = false;                       // --pcapng (also implied by a .pcapng name)
	bool unbuffered = false;                   // -U: write each packet as it comes
	std::optional<std::uint64_t> rotate_bytes; // -C, in millions of bytes like tcpdump
	std::optional<std::uint32_t> rotate_seconds; // -G
	std::optional<std::uint32_t> file_limit;   // -W
	std::optional<std::string> tcpdump_flags;  // -t FLAGS: decode with `tcpdump -r - FLAGS`
	bool numeric = false;                      // -n: the text printer resolves nothing
	bool print = false;                        // --print: decoded lines on stdout, also with -w
};

// With no -w: decoded text when stdout is a terminal (or a tcpdump pipe on
// -t), pcap on stdout otherwise. --print: decoded text on stdout whatever
// stdout is, next to the -w file if there is one.
[[nodiscard]] Result<std::unique_ptr<Sink>> make_sink(const OutputOptions &options);

// Whether the sink make_sink() builds shows PacketMeta (the pcapng packet
// comment, the printer's brackets); a source may skip describing packets
// when it does not (plain pcap, a tcpdump pipe).
bool sink_shows_metadata(const OutputOptions &options);

} // namespace capx
