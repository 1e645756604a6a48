// SPDX-License-Identifier: GPL-2.0-only
// `capx skb`: packets as kernel functions and tracepoints see their
// sk_buffs, read from the BPF ring buffer shared by all probes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/source.hpp"
#include "core/error.hpp"
#include "core/snaplen.hpp"

namespace capx::skb {

struct SkbConfig {
	std::vector<std::string> probes;   // -f arguments, as given
	std::string expression;            // tcpdump filter
	std::uint32_t snaplen = kMaxSnaplen;    // -s (capped to CAPX_PACKET_BUF_SIZE)
	std::string interface;             // -i: name or index, empty: any
	std::string netns;                 // --netns: inode or a path like /proc/PID/ns/net
	std::optional<std::uint32_t> mark; // --mark
	bool stacks = false;               // -S
	std::uint64_t ring_kib = 8192;     // -B
	// The output shows packet metadata (pcapng, the printer): when it does
	// not, no comment is built and no stack looked up.
	bool describe_packets = true;
};

class SkbSource {
public:
	// Resolves, loads and attaches every probe; the filter is compiled once
	// for L2 and once for L3 (a warning, once, when it cannot apply at L3).
	[[nodiscard]] static Result<std::unique_ptr<Source>> make(const SkbConfig &config);
};

} // namespace capx::skb
