// SPDX-License-Identifier: GPL-2.0-only
// Where packets go: pcap, pcapng, decoded text, a tcpdump pipe.
#pragma once

#include <memory>
#include <span>

#include "core/error.hpp"
#include "core/packet.hpp"

namespace capx {

class Sink {
public:
	virtual ~Sink() = default;

	// Called once, before any packet, with the capture points that packets
	// will reference by index.
	[[nodiscard]] virtual Result<void> begin(std::span<const CapturePoint> points) = 0;
	[[nodiscard]] virtual Result<void> write(const PacketView &packet) = 0;
	// The packets of `batch` in order, as write() would write them one by
	// one; `written` says how many are (also when an error stops it).
	[[nodiscard]] virtual Result<void> write_batch(PacketBatch batch, std::size_t &written)
	{
		for (written = 0; written < batch.size(); written++)
			if (auto r = write(batch[written]); !r)
				return r;
		return {};
	}
	// Pushes buffered records out (called on -U after each batch and at stop).
	[[nodiscard]] virtual Result<void> flush() = 0;
	// The source reached a point where a write(2) holds up no capture (see
	// PacketConsumer::on_batch_end): a sink may write out part of what it
	// buffered, in moderate chunks.
	[[nodiscard]] virtual Result<void> batch_end() { return {}; }
	// Final flush and close; the output is complete and valid afterwards.
	[[nodiscard]] virtual Result<void> finish() = 0;
};

} // namespace capx
