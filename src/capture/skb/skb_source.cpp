// SPDX-License-Identifier: GPL-2.0-only
// SkbSource: the probes of one `capx skb` session and the one ring buffer
// they all write to.
#include "capture/skb/skb_source.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "bpf/btf.hpp"
#include "bpf/capture_maps.hpp"
#include "bpf/kallsyms.hpp"
#include "bpf/ring_buffer.hpp"
#include "capture/bpf_ring_source.hpp"
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

class SkbSourceImpl final : public BpfRingSource {
public:
	SkbSourceImpl(std::unique_ptr<BpfProbes> probes, bpf::RingBuffer ring, std::vector<CapturePoint> points,
		      RecordConverter converter)
		: BpfRingSource(std::move(probes), std::move(ring), std::move(points)), converter_(std::move(converter))
	{
	}

private:
	ProbeTally tally(const CapturePoint &point, const capx_counters &c) const override
	{
		return packet_tally(point, c);
	}

	bool on_record(std::span<const std::uint8_t> record) override
	{
		// A packet's stack text lives in the converter until the next
		// record: with -S each packet goes on by itself.
		PacketView &p = converter_.keeps_stacks() ? single_ : next_view();
		RecordFacts facts;
		if (!usable(converter_.convert(record, p, facts) ? &p : nullptr))
			return true;
		if (facts.unreadable_bytes)
			warn_unreadable();
		return &p == &single_ ? deliver(p) : queue_view();
	}

	void warn_unreadable()
	{
		if (warned_unreadable_)
			return;
		warned_unreadable_ = true;
		spdlog::warn("some packets are captured without the bytes in their paged fragments (marked "
			     "truncated, counted per probe): this kernel does not let capx read them");
	}

	RecordConverter converter_;
	PacketView single_;
	bool warned_unreadable_ = false;
};

} // namespace

[[nodiscard]] Result<std::unique_ptr<Source>> SkbSource::make(const SkbConfig &config)
{
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
	filters.snaplen = bpf::record_snaplen(config.snaplen);
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
	for (const auto &spec : config.probes) {
		auto probe = resolve_probe(spec, *btf);
		if (!probe)
			return std::unexpected(std::move(probe.error()));
		drop_reasons |= probe->drop_reason_arg.has_value();
		resolved.push_back(std::move(*probe));
	}

	auto probes = ProbeSet::make(resolved, filters, filter->bodies, config.ring_kib * 1024);
	if (!probes)
		return std::unexpected(bpf::explain_refusal(std::move(probes.error()), "skb", config.expression));
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
	if (drop_reasons) {
		// The values change between kernels: names from this one's BTF.
		auto names = std::make_shared<DropReasons>(DropReasons::from_btf(*btf));
		lookups.drop_reason_name = [names](std::uint32_t reason) { return names->name(reason); };
	}
	if (filters.stacks) {
		const ProbeSet *set = probes->get();
		lookups.stack = [set](std::uint32_t id) { return set->stack(id); };
		const auto &symbols = bpf::Kallsyms::kernel();
		if (symbols)
			lookups.symbol = [&symbols](std::uint64_t address) { return symbols->symbolize(address); };
		else
			spdlog::warn("kernel stacks are shown as addresses: {}", symbols.error().message);
	}
	RecordConverter converter(WallClock::measure(CLOCK_MONOTONIC), std::move(lookups), filters.snaplen);

	return BpfRingSource::make<SkbSourceImpl>(std::move(*probes), std::move(points), std::move(converter));
}

} // namespace capx::skb
