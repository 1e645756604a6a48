// SPDX-License-Identifier: GPL-2.0-only
// What every BPF capture source shares (capx skb, capx mbuf, and the
// points to come): probes that write one BPF ring, read by one poll loop;
// a summary built from per-probe counters; the records that are no
// packets, counted; and the order things go away in (the ring before the
// probes that own its map). A capture point adds only how it attaches
// (its BpfProbes) and how one of its records becomes a packet (on_record).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bpf/ring_buffer.hpp"
#include "capture/source.hpp"
#include "capx/event.h"
#include "core/error.hpp"

namespace capx {

// The loaded and attached BPF side of one capture session: probes that all
// write the ring `events_map_fd()`, each with its own counters (the probe
// id is the capture point's index). Detaches everything when destroyed.
class BpfProbes {
public:
	virtual ~BpfProbes() = default;
	virtual int events_map_fd() const = 0;
	virtual std::size_t size() const = 0;
	// The counters of `probe_id`, summed over all CPUs.
	[[nodiscard]] virtual Result<capx_counters> counters(std::uint32_t probe_id) const = 0;
};

// One probe's part of the summary.
struct ProbeTally {
	std::uint64_t received = 0; // passed the filter (SourceStats::received)
	std::uint64_t dropped = 0;  // lost before capx could read them
	std::string line;           // "ip_rcv@fentry: hits 10, filtered out 2, ..."
};

class BpfRingSource : public Source, protected bpf::RecordHandler {
public:
	// The source `Impl` (derived from BpfRingSource) over `probes`, with
	// its ring opened; `args` go to Impl's constructor after the probes,
	// the ring and the capture points.
	template <typename Impl, typename... Args>
	[[nodiscard]] static Result<std::unique_ptr<Source>> make(std::unique_ptr<BpfProbes> probes,
								  std::vector<CapturePoint> points, Args &&...args)
	{
		auto ring = bpf::RingBuffer::open(probes->events_map_fd());
		if (!ring)
			return std::unexpected(std::move(ring.error()));
		return std::make_unique<Impl>(std::move(probes), std::move(*ring), std::move(points),
					      std::forward<Args>(args)...);
	}

	std::span<const CapturePoint> capture_points() const final { return points_; }
	[[nodiscard]] Result<void> poll(std::chrono::milliseconds timeout, PacketConsumer &consumer) final;
	[[nodiscard]] Result<SourceStats> stats() override;
	bool exhausted() const final { return exhausted_; }

protected:
	BpfRingSource(std::unique_ptr<BpfProbes> probes, bpf::RingBuffer ring, std::vector<CapturePoint> points);

	// A probe's counters as the summary says them.
	virtual ProbeTally tally(const CapturePoint &point, const capx_counters &counters) const = 0;
	// The tally of a probe that sees one packet per hit (capx skb, capx
	// xdp): received is what passed the filter, dropped what was lost after.
	static ProbeTally packet_tally(const CapturePoint &point, const capx_counters &counters);

	// Asked before each poll: true when nothing more will come after what
	// waits in the ring now (capx mbuf: every target process exited). That
	// poll then reads what waits without waiting, and the source is
	// exhausted.
	virtual bool ending() { return false; }

	// Whether a record converted to `packet` (nullptr: the converter
	// refused it) is a packet of one of this source's capture points; a
	// record that is not is counted ("malformed ring records").
	bool usable(const PacketView *packet);

	// Hands one packet to the consumer (after those queued below). False:
	// the consumer is done, stop the batch.
	bool deliver(const PacketView &packet);

	// Packets handed over in batches (PacketConsumer::on_packets: a file
	// sink encodes them in one loop and reads its clock once): fill
	// next_view() in place, then queue_view(). The views may point into
	// the ring: they go to the consumer before it takes the records back.
	PacketView &next_view() { return views_[pending_]; }
	bool queue_view() { return ++pending_ < views_.size() || flush_views(); }

	bool on_release() override { return flush_views(); }

private:
	static constexpr std::size_t kBatch = 256;

	bool flush_views();

	// Declared in this order so that the ring is unmapped before the
	// probes (and the map it reads) go away.
	std::unique_ptr<BpfProbes> probes_;
	bpf::RingBuffer ring_;
	std::vector<CapturePoint> points_;
	PacketConsumer *consumer_ = nullptr;
	std::uint64_t malformed_ = 0;
	bool exhausted_ = false;
	std::array<PacketView, kBatch> views_{};
	std::size_t pending_ = 0;
};

} // namespace capx
