// SPDX-License-Identifier: GPL-2.0-only
// `capx skb`: packets as kernel functions and tracepoints see their
// sk_buffs, read from the BPF ring buffer shared by all probes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/skb/probe_spec.hpp"
#include "capture/source.hpp"
#include "core/error.hpp"
#include "core/snaplen.hpp"

namespace capx::skb {

// What the CLI parsed (src/cli/skb.cpp); the source takes it as it is.
struct SkbConfig {
	std::vector<ProbeSpec> probes;     // -f, parsed (not empty)
	std::string expression;            // tcpdump filter
	std::uint32_t snaplen = kMaxSnaplen;    // -s (capped to CAPX_PACKET_BUF_SIZE)
	std::string interface;             // -i: name or index, empty: any
	std::string netns;                 // --netns: inode or a path like /proc/PID/ns/net
	std::optional<std::uint32_t> mark; // --mark
	bool stacks = false;               // -S
	std::uint64_t ring_kib = 8192;     // -B
};

class SkbSource {
public:
	// Resolves, loads and attaches every probe; the filter is compiled once
	// for L2 and once for L3 (a warning, once, when it cannot apply at L3).
	[[nodiscard]] static Result<std::unique_ptr<Source>> make(const SkbConfig &config);
};

} // namespace capx::skb
