// SPDX-License-Identifier: GPL-2.0-only
// Where packets come from. A source is attached once made (factories return
// it ready), delivers packets in batches, and detaches in its destructor.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/packet.hpp"

namespace capx {

class PacketConsumer {
public:
	virtual ~PacketConsumer() = default;
	// Returns false to stop the batch (e.g. the count limit was reached).
	virtual bool on_packet(const PacketView &packet) = 0;
	// Several packets at once (capx ring: the accepted frames of a block).
	// Returns false when the consumer is done (its limit, an error): it
	// may have taken only the first of them, and takes no more.
	virtual bool on_packets(PacketBatch batch)
	{
		for (std::size_t i = 0; i < batch.size(); i++)
			if (!on_packet(batch[i]))
				return false;
		return true;
	}
	// The source is done with the memory of the packets it handed over so
	// far (capx ring: it gave their block back to the kernel), so writing
	// out what was buffered now holds up no capture. Returns false to stop
	// the batch, like on_packet.
	virtual bool on_batch_end() { return true; }
};

struct SourceStats {
	std::uint64_t received = 0;        // seen by the filter (tcpdump: "received by filter")
	std::uint64_t dropped_kernel = 0;  // lost before capx could read them
	// Further counters in display order ("truncated", "lost, ring full", ...).
	std::vector<std::pair<std::string, std::uint64_t>> extra;
	// Whole lines after those, printed as they are (e.g. one per capture
	// point: "ip_rcv@fentry: hits 10, filtered out 2, ...").
	std::vector<std::string> lines;
};

class Source {
public:
	virtual ~Source() = default;

	virtual std::span<const CapturePoint> capture_points() const = 0;

	// Waits up to `timeout` for packets and hands each to `consumer`.
	// Returns early when stop::fd() becomes readable. An empty batch is not
	// an error.
	[[nodiscard]] virtual Result<void> poll(std::chrono::milliseconds timeout, PacketConsumer &consumer) = 0;

	[[nodiscard]] virtual Result<SourceStats> stats() = 0;

	// True once nothing more can come (e.g. every process capx mbuf
	// captures from has exited): the pipeline then ends as on -c, after the
	// packets already delivered. Checked after each poll().
	virtual bool exhausted() const { return false; }
};

} // namespace capx
