// SPDX-License-Identifier: GPL-2.0-only
// What `capx ring` can be asked to do, in the words of its options. Parsed
// and validated by the CLI, consumed by RingSource.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/snaplen.hpp"

namespace capx::ring {

// -Q: which packets of the interface to keep, tcpdump's words.
enum class DirectionFilter { InOut, In, Out };

// --fanout: how the kernel spreads packets over the --threads sockets
// (PACKET_FANOUT_* in linux/if_packet.h).
enum class FanoutMode { Hash, Cpu, LoadBalance, Rollover };

// --time-stamp-type, pcap-tstamp(7)'s names.
enum class TimestampType { Host, Adapter, AdapterUnsynced };

struct RingConfig {
	std::string interface = "";           // -i: a name, an index, or "any"
	std::uint32_t ring_kib = 8192;        // -B: size of each thread's ring
	std::uint32_t block_kib = 256;        // --block-size: one TPACKET_V3 block
	std::uint32_t retire_timeout_ms = 20; // --retire-timeout: tp_retire_blk_tov
	unsigned threads = 1;                 // --threads: sockets in one fanout group
	FanoutMode fanout = FanoutMode::Hash;
	bool promiscuous = true;              // -p turns it off
	DirectionFilter direction = DirectionFilter::InOut;
	TimestampType timestamp = TimestampType::Host;
	std::uint32_t snaplen = kMaxSnaplen;       // -s
	std::string expression;               // the filter, tcpdump syntax

	// Checks the combinations (exit 2 on conflict): ring holds at least two
	// blocks, block size is a multiple of the page size, and so on.
	[[nodiscard]] Result<void> validate() const;
};

[[nodiscard]] Result<DirectionFilter> parse_direction(std::string_view word);
[[nodiscard]] Result<FanoutMode> parse_fanout(std::string_view word);
[[nodiscard]] Result<TimestampType> parse_timestamp_type(std::string_view word);

std::string_view to_string(DirectionFilter d);
std::string_view to_string(FanoutMode m);
std::string_view to_string(TimestampType t);

} // namespace capx::ring
