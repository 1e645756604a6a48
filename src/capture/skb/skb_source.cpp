// SPDX-License-Identifier: GPL-2.0-only
// SkbSource: the probes of one `capx skb` session and the one ring buffer
// they all write to.
#include "capture/skb/skb_source.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include <fmt/format.h>

#include "bpf/btf.hpp"
#include "bpf/kallsyms.hpp"
#include "bpf/ring_buffer.hpp"
#include "capture/bpf_ring_read.hpp"
#include "capture/skb/drop_reason.hpp"
#include "capture/skb/probe_set.hpp"
#include "capture/skb/probe_spec.hpp"
#include "capture/skb/skb_arguments.hpp"
#include "capture/skb/skb_filter.hpp"
#include "capture/skb/skb_record.hpp"
#include "capx/event.h"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/stop.hpp"

namespace capx::skb {

namespace {

class SkbSourceImpl final : public Source, private bpf::RecordHandler {
public:
	SkbSourceImpl(std::unique_ptr<ProbeSet> probes, bpf::RingBuffer ring, std::vector<CapturePoint> points,
		      RecordConverter converter)
		: probes_(std::move(probes)), ring_(std::move(ring)), points_(std::move(points)),
		  converter_(std::move(converter))
	{
	}

	std::span<const CapturePoint> capture_points() const override { return points_; }

	[[nodiscard]] Result<void> poll(std::chrono::milliseconds timeout, PacketConsumer &consumer) override
	{
		consumer_ = &consumer;
		auto r = read_ring(ring_, *this, timeout);
		consumer_ = nullptr;
		// The records read are released (the consumer position is
		// stored), so the output may write now: a file sink writes out
		// whole chunks here and reads its clock once per batch instead
		// of per record (src/output/file_output.hpp).
		if (r)
			(void)consumer.on_batch_end();
		return r;
	}

	[[nodiscard]] Result<SourceStats> stats() override
	{
		SourceStats out;
		for (std::uint32_t id = 0; id < probes_->size(); id++) {
			auto c = probes_->counters(id);
			if (!c)
				return std::unexpected(std::move(c.error()));
			// tcpdump on Linux counts as "received by filter" what passed
			// the filter, kept or dropped (tp_packets includes tp_drops,
			// packet_getsockopt in net/packet/af_packet.c); so does capx
			// ring. Packets lost before the filter could say (no scratch
			// slot free, a read the kernel refused) count as received and
			// dropped: received - dropped is what reached the ring.
			out.received += c->hits - std::min(c->hits, c->filtered_out);
			out.dropped_kernel += c->lost_ring_full + c->lost_busy + c->errors;
			std::string line = fmt::format("{}: hits {}, filtered out {}, captured {}, lost (ring full) {}, "
						       "truncated {}",
						       points_[id].name, c->hits, c->filtered_out, c->captured,
						       c->lost_ring_full, c->truncated);
			if (c->lost_busy)
				line += fmt::format(", lost (busy) {}", c->lost_busy);
			if (c->errors)
				line += fmt::format(", errors {}", c->errors);
			out.lines.push_back(std::move(line));
		}
		malformed_.report(out);
		return out;
	}

private:
	// Views of up to this many records go to the consumer as one batch
	// (PacketConsumer::on_packets: a file sink encodes them in one loop and
	// reads its clock once), when the output shows no metadata.
	static constexpr std::size_t kBatch = 256;

	// What MalformedRecords::usable() looks at.
	struct Converted {
		const PacketView &packet;
	};

	bool on_record(std::span<const std::uint8_t> record) override
	{
		if (!converter_.describes()) {
			PacketView &p = views_[pending_];
			bool unreadable = false;
			const bool ok = converter_.convert_packet(record, p, unreadable);
			const Converted converted{p};
			if (!malformed_.usable(ok ? &converted : nullptr, points_.size()))
				return true;
			if (unreadable)
				warn_unreadable();
			if (++pending_ == views_.size())
				return on_release();
			return true;
		}
		const SkbRecord *converted = converter_.convert_in_place(record);
		if (!malformed_.usable(converted, points_.size()))
			return true;
		if (converted->unreadable_bytes)
			warn_unreadable();
		return consumer_->on_packet(converted->packet);
	}

	// The views point into the ring: handed over before it takes the
	// records back.
	bool on_release() override
	{
		if (pending_ == 0)
			return true;
		const std::size_t n = pending_;
		pending_ = 0;
		return consumer_->on_packets(PacketBatch(views_.data(), n));
	}

	void warn_unreadable()
	{
		if (warned_unreadable_)
			return;
		warned_unreadable_ = true;
		spdlog::warn("some packets are captured without the bytes in their paged fragments (marked "
			     "truncated, counted per probe): this kernel does not let capx read them");
	}

	// Declared in this order so that the ring is unmapped before the
	// probes (and the map it reads) go away.
	std::unique_ptr<ProbeSet> probes_;
	bpf::RingBuffer ring_;
	std::vector<CapturePoint> points_;
	RecordConverter converter_;
	PacketConsumer *consumer_ = nullptr;
	MalformedRecords malformed_;
	bool warned_unreadable_ = false;
	// The batch being filled: meta stays empty (convert_packet()).
	std::array<PacketView, kBatch> views_{};
	std::size_t pending_ = 0;
};

} // namespace

[[nodiscard]] Result<std::unique_ptr<Source>> SkbSource::make(const SkbConfig &config)
{
	auto specs = parse_probe_specs(config.probes);
	if (!specs)
		return std::unexpected(std::move(specs.error()));
	if (specs->empty())
		return fail_usage("no probe given", "e.g. capx skb -f tp:net:netif_receive_skb icmp");
	if (specs->size() > CAPX_MAX_PROBES)
		return fail_usage(fmt::format("{} probes given; capx skb takes at most {}", specs->size(),
					      CAPX_MAX_PROBES));

	// Empty in the config means "not given" (0: every device, every
	// namespace); the resolvers refuse an empty word, so `-i ""` and
	// `--netns ""` cannot mean "any" by accident.
	ProbeFilters filters;
	if (!config.interface.empty()) {
		auto ifindex = resolve_interface_argument(config.interface);
		if (!ifindex)
			return std::unexpected(std::move(ifindex.error()));
		filters.ifindex = *ifindex;
	}
	if (!config.netns.empty()) {
		auto netns = resolve_netns_argument(config.netns);
		if (!netns)
			return std::unexpected(std::move(netns.error()));
		filters.netns = *netns;
	}
	filters.mark = config.mark;
	filters.snaplen = std::min<std::uint32_t>(config.snaplen, CAPX_PACKET_BUF_SIZE);
	filters.stacks = config.stacks;

	auto filter = build_skb_filter(config.expression, filters.snaplen);
	if (!filter)
		return std::unexpected(std::move(filter.error()));
	// An unknown count (an indirect load) means every byte up to the snaplen.
	if (filter->l2_bytes_needed && filter->l3_bytes_needed)
		filters.filter_bytes = std::max(*filter->l2_bytes_needed, *filter->l3_bytes_needed);

	auto btf = bpf::KernelBtf::load();
	if (!btf)
		return std::unexpected(std::move(btf.error()));
	std::vector<ResolvedProbe> resolved;
	bool drop_reasons = false;
	for (const auto &spec : *specs) {
		auto probe = resolve_probe(spec, *btf);
		if (!probe)
			return std::unexpected(std::move(probe.error()));
		drop_reasons |= probe->drop_reason_arg.has_value();
		resolved.push_back(std::move(*probe));
	}

	auto probes = ProbeSet::make(resolved, filters, filter->bodies, config.ring_kib * 1024);
	if (!probes)
		return std::unexpected(bpf::explain_refusal(std::move(probes.error()), "skb", config.expression));
	auto ring = bpf::RingBuffer::open((*probes)->events_map_fd());
	if (!ring)
		return std::unexpected(std::move(ring.error()));

	std::vector<CapturePoint> points;
	for (std::uint32_t id = 0; id < (*probes)->size(); id++) {
		const ResolvedProbe &p = (*probes)->attached_as(id);
		CapturePoint point;
		point.name = p.display_name;
		point.description = fmt::format("capx skb {} probe", probe_kind_name(p.kind));
		point.linktype = kLinkEthernet;
		point.snaplen = filters.snaplen;
		point.filter = config.expression;
		points.push_back(std::move(point));
	}

	RecordLookups lookups;
	lookups.own_netns = own_netns_inode();
	lookups.describe = config.describe_packets;
	if (config.stacks && !config.describe_packets)
		spdlog::warn("-S: stacks are written into pcapng packet comments and --print lines; "
			     "this output has no place for them");
	if (drop_reasons) {
		// The values change between kernels: names from this one's BTF.
		auto names = std::make_shared<DropReasons>(DropReasons::from_btf(*btf));
		lookups.drop_reason_name = [names](std::uint32_t reason) { return std::string(names->name(reason)); };
	}
	if (config.stacks) {
		const ProbeSet *set = probes->get();
		lookups.stack = [set](std::uint32_t id) { return set->stack(id); };
		const auto &symbols = bpf::Kallsyms::kernel();
		if (symbols)
			lookups.symbol = [&symbols](std::uint64_t address) { return symbols->symbolize(address); };
		else
			spdlog::warn("kernel stacks are shown as addresses: {}", symbols.error().message);
	}
	RecordConverter converter(WallClock::measure(CLOCK_MONOTONIC), std::move(lookups), filters.snaplen);

	return std::make_unique<SkbSourceImpl>(std::move(*probes), std::move(*ring), std::move(points),
					       std::move(converter));
}

} // namespace capx::skb
