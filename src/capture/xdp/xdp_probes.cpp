// SPDX-License-Identifier: GPL-2.0-only
#include "capture/xdp/xdp_probes.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <array>
#include <cerrno>

#include <fmt/format.h>

#include "bpf/capture_maps.hpp"
#include "bpf/skeleton.hpp"
#include "core/log.hpp"
#include "xdp.skel.h"

namespace capx::xdp {

namespace {

// A program's kind as far as program arrays care (see the header).
struct Variant {
	bool frags;
	bpf_attach_type attach;
};

// libbpf's SEC("xdp") gives BPF_XDP (libbpf >= 1.0, and so iproute2 and
// xdp-tools built on it); older loaders gave 0.
constexpr std::array<Variant, 4> kVariants = {{
	{false, BPF_XDP},
	{true, BPF_XDP},
	{false, static_cast<bpf_attach_type>(0)},
	{true, static_cast<bpf_attach_type>(0)},
}};

[[nodiscard]] Result<bpf::Skeleton<::xdp>> load(const ProbeLayout &layout, const bpf::FilterBodies &bodies, Variant v,
						 bool hook)
{
	auto skel = bpf::Skeleton<::xdp>::open();
	if (!skel)
		return std::unexpected(skel.error());
	::xdp *s = skel->get();
	struct bpf_program *each;
	bpf_object__for_each_program(each, s->obj)
	{
		bool mine = hook ? each != s->progs.capx_xdp_wrap : each == s->progs.capx_xdp_wrap;
		bpf_program__set_autoload(each, mine);
		if (!mine)
			continue;
		bpf_program__set_flags(each, v.frags ? BPF_F_XDP_HAS_FRAGS : 0);
		bpf_program__set_expected_attach_type(each, v.attach);
	}
	if (auto r = bpf::size_capture_maps(s->obj, layout.ring_bytes); !r)
		return std::unexpected(r.error());
	auto *ro = s->rodata;
	ro->capx_capture_entry = layout.entry_probe.has_value();
	ro->capx_capture_exit = layout.exit_probe.has_value();
	ro->capx_entry_probe = layout.entry_probe.value_or(0);
	ro->capx_exit_probe = layout.exit_probe.value_or(0);
	ro->capx_action_mask = layout.actions;
	ro->capx_snaplen = bpf::record_snaplen(layout.snaplen);
	ro->capx_filter_bytes = std::min<std::uint32_t>(layout.filter_bytes, CAPX_PACKET_BUF_SIZE);
	ro->capx_wakeup_bytes = bpf::wakeup_bytes(bpf_map__max_entries(s->maps.capx_events));
	if (auto r = skel->load(bodies); !r)
		return std::unexpected(r.error());
	return skel;
}

std::string variant_name(Variant v)
{
	return fmt::format("{}xdp{}", v.attach ? "" : "legacy ", v.frags ? ".frags" : "");
}

// Whether this kernel gives the verdict back through the wrapper: a
// throwaway wrapper of variant `v` around capx's own XDP_DROP hook program,
// run once with BPF_PROG_TEST_RUN, must return XDP_DROP (a tail call that
// fell through would return XDP_PASS and leave the user's program out).
[[nodiscard]] Result<void> check_verdict_returns(const ProbeLayout &layout, const bpf::FilterBodies &bodies, Variant v)
{
	auto wrapper = load(layout, bodies, v, false);
	auto target = load(layout, bodies, v, true);
	if (!wrapper || !target)
		return std::unexpected(wrapper ? target.error() : wrapper.error());
	std::uint32_t slot = 0;
	int fd = bpf_program__fd((*target)->progs.capx_xdp_hook_drop);
	if (bpf_map_update_elem(bpf_map__fd((*wrapper)->maps.capx_target), &slot, &fd, BPF_ANY))
		return fail_errno(errno, "cannot test capx's wrapper");
	std::uint8_t frame[64] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof frame, .repeat = 1);
	if (int err = bpf_prog_test_run_opts(bpf_program__fd((*wrapper)->progs.capx_xdp_wrap), &opts))
		return fail_errno(-err, "cannot test capx's wrapper (BPF_PROG_TEST_RUN)");
	if (opts.retval != XDP_DROP)
		return fail(fmt::format("this kernel does not give the verdict back through capx's wrapper (a tail "
					"call from a subprogram returned {} where the program said drop)",
					opts.retval),
			    "wrapping would change what the program does; capture at it with --method trace where "
			    "fentry works");
	return {};
}

} // namespace

struct XdpProbes::Impl {
	bpf::Skeleton<::xdp> skel;
	std::size_t probes = 0;
	// After skel: detached, and changes undone, before it goes.
	bpf::Link link;
	ChangeSet changes;
};

XdpProbes::XdpProbes(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

XdpProbes::~XdpProbes()
{
	impl_->changes = ChangeSet{};
	impl_->link.reset();
}

static std::size_t probe_count(const ProbeLayout &layout)
{
	return layout.entry_probe.has_value() + layout.exit_probe.has_value();
}

[[nodiscard]] Result<std::unique_ptr<XdpProbes>> XdpProbes::wrapper(const ProgramInfo *target, const ProbeLayout &layout,
								     const bpf::FilterBodies &bodies)
{
	if (!target) {
		auto skel = load(layout, bodies, {true, BPF_XDP}, false);
		if (!skel)
			return std::unexpected(skel.error());
		auto impl = std::make_unique<Impl>(Impl{std::move(*skel), probe_count(layout), {}, {}});
		return std::unique_ptr<XdpProbes>(new XdpProbes(std::move(impl)));
	}
	std::optional<Error> refusal;
	for (Variant v : kVariants) {
		auto skel = load(layout, bodies, v, false);
		if (!skel)
			return std::unexpected(skel.error());
		std::uint32_t slot = 0;
		int fd = target->fd.get();
		if (bpf_map_update_elem(bpf_map__fd((*skel)->maps.capx_target), &slot, &fd, BPF_ANY) == 0) {
			bpf_map_delete_elem(bpf_map__fd((*skel)->maps.capx_target), &slot);
			if (auto r = check_verdict_returns(layout, bodies, v); !r)
				return std::unexpected(std::move(r.error()));
		}
		if (bpf_map_update_elem(bpf_map__fd((*skel)->maps.capx_target), &slot, &fd, BPF_ANY) == 0) {
			spdlog::debug("capx's wrapper loaded as {} to fit program {}", variant_name(v), target->id);
			auto impl = std::make_unique<Impl>(Impl{std::move(*skel), probe_count(layout), {}, {}});
			return std::unique_ptr<XdpProbes>(new XdpProbes(std::move(impl)));
		}
		int err = errno;
		if (err != EINVAL)
			return fail_errno(err, fmt::format("cannot put program {} into capx's wrapper", target->id));
	}
	return fail(fmt::format("program {} ('{}') fits none of capx's wrapper variants (xdp, xdp.frags, legacy)",
				target->id, target->name),
		    target->jited ? "" : "its program is not JIT-compiled; capx's wrapper needs the JIT (net.core.bpf_jit_enable=1)");
}

[[nodiscard]] Result<std::unique_ptr<XdpProbes>> XdpProbes::hook(int hook_map_fd, const ProbeLayout &layout,
								  const bpf::FilterBodies &bodies)
{
	for (Variant v : kVariants) {
		auto skel = load(layout, bodies, v, true);
		if (!skel)
			return std::unexpected(skel.error());
		// Try the empty last slot the way the user's program would call
		// it: the kernel checks compatibility at each update. A slot
		// beyond the map (a hook map of fewer than five) is the caller's
		// error to report; here any slot will do.
		struct bpf_map_info info{};
		std::uint32_t len = sizeof info;
		if (bpf_obj_get_info_by_fd(hook_map_fd, &info, &len))
			return fail_errno(errno, "cannot read the hook map");
		std::uint32_t probe_slot = info.max_entries - 1;
		std::uint32_t id = 0;
		if (bpf_map_lookup_elem(hook_map_fd, &probe_slot, &id) == 0)
			return fail(fmt::format("slot {} of the hook map holds program {} already", probe_slot, id),
				    "another capture (xdpcap, capx) is using the hook");
		int fd = bpf_program__fd((*skel)->progs.capx_xdp_hook_aborted);
		if (bpf_map_update_elem(hook_map_fd, &probe_slot, &fd, BPF_ANY) == 0) {
			bpf_map_delete_elem(hook_map_fd, &probe_slot);
			spdlog::debug("capx's hook programs loaded as {}", variant_name(v));
			auto impl = std::make_unique<Impl>(Impl{std::move(*skel), probe_count(layout), {}, {}});
			return std::unique_ptr<XdpProbes>(new XdpProbes(std::move(impl)));
		}
		int err = errno;
		if (err != EINVAL)
			return fail_errno(err, "cannot put capx's program into the hook map");
	}
	return fail("the hook map's programs fit none of capx's program variants (xdp, xdp.frags, legacy)");
}

[[nodiscard]] Result<std::vector<bpf::ProgramCost>> XdpProbes::verify(const ProbeLayout &layout,
								       const bpf::FilterBodies &bodies)
{
	auto skel = load(layout, bodies, {true, BPF_XDP}, false);
	if (!skel)
		return std::unexpected(skel.error());
	return bpf::verifier_costs(skel->object());
}

int XdpProbes::program_fd() const
{
	return bpf_program__fd(impl_->skel->progs.capx_xdp_wrap);
}

int XdpProbes::hook_program_fd(std::uint32_t action) const
{
	auto &p = impl_->skel->progs;
	struct bpf_program *progs[] = {p.capx_xdp_hook_aborted, p.capx_xdp_hook_drop, p.capx_xdp_hook_pass,
				       p.capx_xdp_hook_tx, p.capx_xdp_hook_redirect};
	return action < std::size(progs) ? bpf_program__fd(progs[action]) : -1;
}

[[nodiscard]] Result<void> XdpProbes::attach_own(std::uint32_t ifindex, std::string_view ifname)
{
	errno = 0;
	auto link = bpf::Link::adopt(bpf_program__attach_xdp(impl_->skel->progs.capx_xdp_wrap, static_cast<int>(ifindex)),
				     fmt::format("capx's XDP program to {}", ifname));
	if (!link)
		return std::unexpected(std::move(link.error()));
	impl_->link = std::move(*link);
	return {};
}

void XdpProbes::hold(ChangeSet changes)
{
	impl_->changes = std::move(changes);
}

int XdpProbes::events_map_fd() const
{
	return bpf_map__fd(impl_->skel->maps.capx_events);
}

std::size_t XdpProbes::size() const
{
	return impl_->probes;
}

[[nodiscard]] Result<capx_counters> XdpProbes::counters(std::uint32_t probe_id) const
{
	if (probe_id >= impl_->probes)
		return fail(fmt::format("no probe {}", probe_id));
	return bpf::read_counters(impl_->skel.object(), probe_id);
}

} // namespace capx::xdp
