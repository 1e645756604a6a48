// SPDX-License-Identifier: GPL-2.0-only
// Reading the BPF ring buffer of a BPF capture source (capx skb, capx
// mbuf) for one Source::poll(): what is waiting now, else what comes within
// the timeout; and the count of the records that are no packets.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "bpf/ring_buffer.hpp"
#include "capture/source.hpp"
#include "core/error.hpp"

namespace capx {

// Hands what is waiting in `ring` to `handler`; when nothing is, waits up
// to `timeout` for records (or a stop request) and hands those. The BPF
// side wakes the reader only now and then (batched wakeups, for
// throughput), so the ring is also read every 50 ms whether or not a wakeup
// came: a packet is visible within that long even at low rates. Under load
// it reads in batches (a 32nd of the ring) rather than right behind the
// writer, within the same 50 ms (why: src/capture/bpf_ring_read.cpp).
[[nodiscard]] Result<void> read_ring(bpf::RingBuffer &ring, bpf::RecordHandler &handler, std::chrono::milliseconds timeout);

// The ring records a BPF capture source cannot use: too short or cap_len
// past their end (its record converter refuses them), or naming a capture
// point the source does not have. They are no packets; they are counted and
// shown in the summary.
class MalformedRecords {
public:
	// Whether `converted` (a record converter's result, with a `packet`)
	// is a packet of one of the source's `points` capture points; counts it
	// when it is not.
	template <typename Converted>
	bool usable(const std::optional<Converted> &converted, std::size_t points)
	{
		return usable(converted ? &*converted : nullptr, points);
	}

	// The same for a converter that returns its result in place (nullptr:
	// malformed).
	template <typename Converted>
	bool usable(const Converted *converted, std::size_t points)
	{
		if (converted && converted->packet.capture_point < points)
			return true;
		count_++;
		return false;
	}

	// The summary line ("malformed ring records"), when there were any.
	void report(SourceStats &stats) const
	{
		if (count_)
			stats.extra.emplace_back("malformed ring records", count_);
	}

private:
	std::uint64_t count_ = 0;
};

} // namespace capx
