// SPDX-License-Identifier: GPL-2.0-only
#include "capture/skb/probe_set.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bpf/capture_maps.hpp"
#include "bpf/link.hpp"
#include "bpf/skeleton.hpp"
#include "skb.skel.h"

namespace capx::skb {

namespace {

// Kernel stacks kept at once with -S (BPF_MAP_TYPE_STACK_TRACE preallocates
// every entry: 127 addresses each). Without -S the map exists with one
// entry, unused.
constexpr std::uint32_t kStackEntries = 8192;
// PERF_MAX_STACK_DEPTH, the value size of capx_stacks in bpf/skb.bpf.c.
constexpr std::size_t kStackDepth = 127;
// Registers a kprobe reads arguments from (x86-64: rdi rsi rdx rcx r8 r9).
constexpr unsigned kKprobeArgs = 6;
// BTF-typed hooks: the argument array bpf/skb.bpf.c's ctx_arg() reaches
// (MAX_BPF_FUNC_ARGS).
constexpr unsigned kTracingArgs = 12;
// The ring verify() loads with (capx skb's default -B).
constexpr std::uint64_t kVerifyRingBytes = 8u << 20;

// The maps every object of a session shares: the first object's.
constexpr const char *kSharedMaps[] = {"capx_events", "capx_counters", "capx_scratch_slots", "capx_scratch_depth",
				       "capx_stacks"};

struct Probe {
	bpf::Skeleton<::skb> skel;
	bpf::Link link; // after skel: destroyed (detached) first
	ResolvedProbe as;
};

struct bpf_program *program_for(::skb *s, ProbeKind kind)
{
	switch (kind) {
	case ProbeKind::TpBtf:
		return s->progs.capx_tp_btf;
	case ProbeKind::RawTp:
		return s->progs.capx_raw_tp;
	case ProbeKind::Fentry:
		return s->progs.capx_fentry;
	case ProbeKind::Fexit:
		return s->progs.capx_fexit;
	case ProbeKind::Kprobe:
		return s->progs.capx_kprobe;
	case ProbeKind::Auto:
		break;
	}
	return nullptr;
}

[[nodiscard]] Result<void> check_arguments(const ResolvedProbe &p)
{
	unsigned limit = p.kind == ProbeKind::Kprobe ? kKprobeArgs : kTracingArgs;
	auto too_far = [&](unsigned index, const char *what) {
		return fail_usage(fmt::format("the {} is argument {} of {}, beyond what a {} can read (the first {})", what,
					      index + 1, p.target, probe_kind_name(p.kind), limit),
				  p.kind == ProbeKind::Kprobe ? "kprobes read arguments from registers only" : "");
	};
	if (p.skb_arg >= limit)
		return too_far(p.skb_arg, "sk_buff");
	if (p.drop_reason_arg && *p.drop_reason_arg >= limit)
		return too_far(*p.drop_reason_arg, "drop reason");
	return {};
}

[[nodiscard]] Result<void> share_maps(::skb *s, const Probe &first)
{
	for (const char *name : kSharedMaps) {
		struct bpf_map *mine = bpf_object__find_map_by_name(s->obj, name);
		struct bpf_map *theirs = bpf_object__find_map_by_name(first.skel.object(), name);
		if (!mine || !theirs)
			return fail(fmt::format("the skb BPF object has no map '{}'", name));
		if (int err = bpf_map__reuse_fd(mine, bpf_map__fd(theirs)))
			return fail_errno(-err, fmt::format("cannot share map '{}' between probes", name));
	}
	return {};
}

void configure(::skb *s, std::uint32_t probe_id, const ResolvedProbe &p, const ProbeFilters &filters,
	       std::uint32_t ring_bytes)
{
	auto *ro = s->rodata;
	ro->capx_probe_id = probe_id;
	ro->capx_skb_arg = p.skb_arg;
	ro->capx_has_reason_arg = p.drop_reason_arg.has_value();
	ro->capx_reason_arg = p.drop_reason_arg.value_or(0);
	ro->capx_want_ifindex = filters.ifindex;
	ro->capx_want_netns = filters.netns;
	ro->capx_has_mark = filters.mark.has_value();
	ro->capx_want_mark = filters.mark.value_or(0);
	std::uint32_t snaplen = filters.snaplen == 0 ? CAPX_PACKET_BUF_SIZE : filters.snaplen;
	ro->capx_snaplen = std::min<std::uint32_t>(snaplen, CAPX_PACKET_BUF_SIZE);
	ro->capx_filter_bytes = std::min<std::uint32_t>(filters.filter_bytes, CAPX_PACKET_BUF_SIZE);
	ro->capx_record_stack = filters.stacks;
	ro->capx_wakeup_bytes = bpf::wakeup_bytes(ring_bytes);
}

[[nodiscard]] Result<bpf::Link> attach(struct bpf_program *prog, const ResolvedProbe &p)
{
	std::string what = fmt::format("probe '{}'", p.display_name);
	errno = 0;
	switch (p.kind) {
	case ProbeKind::TpBtf:
	case ProbeKind::Fentry:
	case ProbeKind::Fexit:
		return bpf::Link::adopt(bpf_program__attach_trace(prog), what);
	case ProbeKind::RawTp:
		return bpf::Link::adopt(bpf_program__attach_raw_tracepoint(prog, p.target.c_str()), what);
	case ProbeKind::Kprobe:
		return bpf::Link::adopt(bpf_program__attach_kprobe(prog, false, p.target.c_str()), what);
	case ProbeKind::Auto:
		break;
	}
	return fail(fmt::format("{} has no attach type", what));
}

Error about(const ResolvedProbe &p, Error e)
{
	// Link::adopt names the probe already.
	if (!e.message.starts_with("cannot attach probe"))
		e.message = fmt::format("probe '{}': {}", p.display_name, e.message);
	return e;
}

// Opens, configures and loads one probe's object. `first` is the session's
// first probe (whose maps this one shares), nullptr for the first itself.
[[nodiscard]] Result<bpf::Skeleton<::skb>> load_object(std::uint32_t probe_id, const ResolvedProbe &p, const ProbeFilters &filters,
					 const bpf::FilterBodies &bodies, std::uint64_t ring_bytes, const Probe *first)
{
	if (auto r = check_arguments(p); !r)
		return std::unexpected(about(p, r.error()));
	auto skel = bpf::Skeleton<::skb>::open();
	if (!skel)
		return std::unexpected(about(p, skel.error()));
	::skb *s = skel->get();

	struct bpf_program *prog = program_for(s, p.kind);
	if (!prog)
		return fail(fmt::format("probe '{}' has no attach type", p.display_name));
	struct bpf_program *each;
	bpf_object__for_each_program(each, s->obj) bpf_program__set_autoload(each, each == prog);
	if (p.kind == ProbeKind::TpBtf || p.kind == ProbeKind::Fentry || p.kind == ProbeKind::Fexit) {
		// tp_btf: libbpf looks up btf_trace_<target> itself.
		if (int err = bpf_program__set_attach_target(prog, 0, p.target.c_str()))
			return std::unexpected(about(p, fail_errno(-err, fmt::format("no attach target '{}'", p.target)).error()));
	}

	std::uint32_t ring_size;
	if (!first) {
		if (auto r = bpf::size_capture_maps(s->obj, ring_bytes); !r)
			return std::unexpected(r.error());
		if (int err = bpf_map__set_max_entries(s->maps.capx_stacks, filters.stacks ? kStackEntries : 1))
			return fail_errno(-err, "cannot size the stack map");
		ring_size = bpf_map__max_entries(s->maps.capx_events);
	} else {
		if (auto r = share_maps(s, *first); !r)
			return std::unexpected(r.error());
		ring_size = bpf_map__max_entries(first->skel->maps.capx_events);
	}
	configure(s, probe_id, p, filters, ring_size);

	if (auto r = skel->load(bodies); !r)
		return std::unexpected(about(p, r.error()));
	return skel;
}

// Loads and attaches one probe (load_object()).
[[nodiscard]] Result<Probe> load_probe(std::uint32_t probe_id, const ResolvedProbe &p, const ProbeFilters &filters,
			 const bpf::FilterBodies &bodies, std::uint64_t ring_bytes, const Probe *first)
{
	auto skel = load_object(probe_id, p, filters, bodies, ring_bytes, first);
	if (!skel)
		return std::unexpected(skel.error());
	auto link = attach(program_for(skel->get(), p.kind), p);
	if (!link)
		return std::unexpected(about(p, link.error()));
	return Probe{std::move(*skel), std::move(*link), p};
}

} // namespace

struct ProbeSet::Impl {
	std::vector<Probe> probes;

	~Impl()
	{
		// Detach everything before any object (and the maps) goes.
		for (auto &p : probes)
			p.link.reset();
	}
};

ProbeSet::ProbeSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProbeSet::~ProbeSet() = default;

[[nodiscard]] Result<std::unique_ptr<ProbeSet>> ProbeSet::make(const std::vector<ResolvedProbe> &probes,
						 const ProbeFilters &filters, const bpf::FilterBodies &bodies,
						 std::uint64_t ring_bytes)
{
	if (probes.empty())
		return fail("no probe to attach");
	if (!bodies.buffer || !bodies.l3)
		return fail("the skb probes need the filter for L2 and for L3 (FilterBodies::buffer and ::l3)");

	auto impl = std::make_unique<Impl>();
	impl->probes.reserve(probes.size());
	for (std::uint32_t id = 0; id < probes.size(); id++) {
		const ResolvedProbe &p = probes[id];
		const Probe *first = impl->probes.empty() ? nullptr : &impl->probes.front();
		auto probe = load_probe(id, p, filters, bodies, ring_bytes, first);
		if (!probe && p.kprobe_fallback && p.kind == ProbeKind::Fentry) {
			ResolvedProbe k = as_kprobe(p);
			spdlog::info("{}; trying {} instead", probe.error().message, k.display_name);
			Error fentry_error = probe.error();
			probe = load_probe(id, k, filters, bodies, ring_bytes, first);
			if (!probe) // both reasons, the kprobe's hint
				return std::unexpected(Error{fentry_error.message + "; and as a kprobe: " + probe.error().message,
							     probe.error().hint.empty() ? fentry_error.hint : probe.error().hint,
							     probe.error().status});
		}
		if (!probe)
			return std::unexpected(probe.error());
		spdlog::debug("probe {} attached as {}", id, probe->as.display_name);
		impl->probes.push_back(std::move(*probe));
	}
	return std::unique_ptr<ProbeSet>(new ProbeSet(std::move(impl)));
}

[[nodiscard]] Result<std::vector<bpf::ProgramCost>> ProbeSet::verify(const ResolvedProbe &probe, const ProbeFilters &filters,
						       const bpf::FilterBodies &bodies)
{
	// A ring of the default size: its wakeup rule is part of the program.
	auto skel = load_object(0, probe, filters, bodies, kVerifyRingBytes, nullptr);
	if (!skel)
		return std::unexpected(skel.error());
	return bpf::verifier_costs(skel->object());
}

int ProbeSet::events_map_fd() const
{
	return bpf_map__fd(impl_->probes.front().skel->maps.capx_events);
}

const ResolvedProbe &ProbeSet::attached_as(std::uint32_t probe_id) const
{
	return impl_->probes.at(probe_id).as;
}

std::size_t ProbeSet::size() const
{
	return impl_->probes.size();
}

[[nodiscard]] Result<capx_counters> ProbeSet::counters(std::uint32_t probe_id) const
{
	if (probe_id >= impl_->probes.size())
		return fail(fmt::format("no probe {}", probe_id));
	return bpf::read_counters(impl_->probes.front().skel.object(), probe_id);
}

std::vector<std::uint64_t> ProbeSet::stack(std::uint32_t stack_id) const
{
	std::uint64_t ips[kStackDepth] = {};
	int fd = bpf_map__fd(impl_->probes.front().skel->maps.capx_stacks);
	if (bpf_map_lookup_elem(fd, &stack_id, ips))
		return {};
	std::vector<std::uint64_t> out;
	for (std::uint64_t ip : ips) {
		if (ip == 0)
			break;
		out.push_back(ip);
	}
	return out;
}

} // namespace capx::skb
