// SPDX-License-Identifier: GPL-2.0-only
#include "capture/bpf_ring_source.hpp"

#include "capture/bpf_ring_read.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace capx {

BpfRingSource::BpfRingSource(std::unique_ptr<BpfProbes> probes, bpf::RingBuffer ring, std::vector<CapturePoint> points)
	: probes_(std::move(probes)), ring_(std::move(ring)), points_(std::move(points))
{
}

[[nodiscard]] Result<void> BpfRingSource::poll(std::chrono::milliseconds timeout, PacketConsumer &consumer)
{
	consumer_ = &consumer;
	Result<void> r;
	// Asked before the ring is read: what a target sent before it went
	// away is in the ring by then and is read now.
	if (ending()) {
		// g++ 12's std::expected has no transform(): spelled out.
		if (auto n = ring_.consume(*this); !n)
			r = std::unexpected(std::move(n.error()));
		else
			exhausted_ = true;
	} else {
		r = read_ring(ring_, *this, timeout);
	}
	consumer_ = nullptr;
	// The records read are released (the consumer position is stored), so
	// the output may write now: a file sink writes out whole chunks here
	// and reads its clock once per batch instead of per record
	// (src/output/file_output.hpp).
	if (r)
		(void)consumer.on_batch_end();
	return r;
}

[[nodiscard]] Result<SourceStats> BpfRingSource::stats()
{
	SourceStats out;
	for (std::uint32_t id = 0; id < probes_->size(); id++) {
		auto c = probes_->counters(id);
		if (!c)
			return std::unexpected(std::move(c.error()));
		ProbeTally t = tally(points_[id], *c);
		out.received += t.received;
		out.dropped_kernel += t.dropped;
		out.lines.push_back(std::move(t.line));
	}
	// Too short, cap_len past their end, or naming a capture point this
	// source does not have: no packets, but worth a line.
	if (malformed_)
		out.extra.emplace_back("malformed ring records", malformed_);
	return out;
}

bool BpfRingSource::usable(const PacketView *packet)
{
	if (packet && packet->capture_point < points_.size())
		return true;
	malformed_++;
	return false;
}

bool BpfRingSource::deliver(const PacketView &packet)
{
	return flush_views() && consumer_->on_packet(packet);
}

bool BpfRingSource::flush_views()
{
	if (pending_ == 0)
		return true;
	const std::size_t n = pending_;
	pending_ = 0;
	return consumer_->on_packets(PacketBatch(views_.data(), n));
}

ProbeTally BpfRingSource::packet_tally(const CapturePoint &point, const capx_counters &c)
{
	ProbeTally t;
	// tcpdump on Linux counts as "received by filter" what passed the
	// filter, kept or dropped (tp_packets includes tp_drops,
	// packet_getsockopt in net/packet/af_packet.c); so does capx ring.
	// Packets lost before the filter could say (no scratch slot free,
	// a read the kernel refused) count as received and dropped:
	// received - dropped is what reached the ring.
	t.received = c.hits - std::min(c.hits, c.filtered_out);
	t.dropped = c.lost_ring_full + c.lost_busy + c.errors;
	t.line = fmt::format("{}: hits {}, filtered out {}, captured {}, lost (ring full) {}, truncated {}", point.name,
			     c.hits, c.filtered_out, c.captured, c.lost_ring_full, c.truncated);
	if (c.lost_busy)
		t.line += fmt::format(", lost (busy) {}", c.lost_busy);
	if (c.errors)
		t.line += fmt::format(", errors {}", c.errors);
	return t;
}

} // namespace capx
