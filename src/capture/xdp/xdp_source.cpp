// SPDX-License-Identifier: GPL-2.0-only
// XdpSource: where the packets are (an interface, a program, a hook map),
// how capx gets there (the method), and the one ring capx's programs write.
#include "capture/xdp/xdp_source.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>

#include <fmt/format.h>

#include "bpf/capture_maps.hpp"
#include "capture/bpf_ring_source.hpp"
#include "capture/xdp/xdp_change.hpp"
#include "capture/xdp/xdp_filter.hpp"
#include "capture/xdp/xdp_probes.hpp"
#include "capture/xdp/xdp_program.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/packet.hpp"

namespace capx::xdp {

namespace {

// xdpcap's hook map: a PROG_ARRAY with one slot per action (hook.h in
// cloudflare/xdpcap: 5 entries; its first releases had 4, no REDIRECT).
constexpr std::uint32_t kHookSlots = 5;

class XdpSourceImpl final : public BpfRingSource {
public:
	XdpSourceImpl(std::unique_ptr<BpfProbes> probes, bpf::RingBuffer ring, std::vector<CapturePoint> points,
		      WallClock clock, std::uint32_t ifindex, std::string ifname)
		: BpfRingSource(std::move(probes), std::move(ring), std::move(points)), clock_(clock), ifindex_(ifindex),
		  ifname_(std::move(ifname))
	{
	}

private:
	ProbeTally tally(const CapturePoint &point, const capx_counters &c) const override
	{
		return packet_tally(point, c);
	}

	bool on_record(std::span<const std::uint8_t> record) override
	{
		PacketView &p = next_view();
		capx_event e;
		bool ok = bpf::event_to_packet(record, clock_, p, &e);
		if (!usable(ok ? &p : nullptr))
			return true;
		if (e.flags & CAPX_EVENT_HAS_PACKET_ID)
			p.meta.packet_id = e.packet_id;
		if (p.meta.ifindex == ifindex_)
			p.meta.ifname = ifname_;
		return queue_view();
	}

	WallClock clock_;
	std::uint32_t ifindex_;
	std::string ifname_;
};

// What the session captures at, once the method is known.
struct Plan {
	Method method = Method::Auto;
	std::optional<InterfaceXdp> interface;
	std::optional<ProgramInfo> program; // wrapped
	UniqueFd hook_map;
	std::uint32_t hook_slots = 0;
	std::string hook_path;
};

[[nodiscard]] Result<Plan> plan_hook(const XdpConfig &config)
{
	Plan plan;
	plan.method = Method::Hook;
	plan.hook_path = config.hook;
	if (config.method != Method::Auto && config.method != Method::Hook)
		return fail_usage(fmt::format("--hook uses the hook method, not --method {}", method_name(config.method)));
	if (!config.interface.empty() || !config.program.empty())
		return fail_usage("--hook captures where the hook's program runs: no -i or --prog with it");
	plan.hook_map.reset(bpf_obj_get(config.hook.c_str()));
	if (!plan.hook_map)
		return fail_errno(errno, fmt::format("no BPF map pinned at '{}'", config.hook),
				  "--hook takes the bpffs path where the XDP program pinned its xdpcap hook map");
	bpf_map_info info{};
	std::uint32_t len = sizeof info;
	if (bpf_fd_kind(plan.hook_map.get()) != "map" ||
	    bpf_obj_get_info_by_fd(plan.hook_map.get(), &info, &len))
		return fail_usage(fmt::format("'{}' is no BPF map", config.hook), "--hook takes xdpcap's pinned hook map");
	if (info.type != BPF_MAP_TYPE_PROG_ARRAY || info.key_size != 4 || info.value_size != 4)
		return fail_usage(fmt::format("'{}' is no xdpcap hook: a hook is a PROG_ARRAY of 4-byte keys and values",
					      config.hook));
	plan.hook_slots = std::min(info.max_entries, kHookSlots);
	return plan;
}

[[nodiscard]] Result<Plan> plan_capture(const XdpConfig &config)
{
	if (!config.hook.empty())
		return plan_hook(config);
	Plan plan;
	if (!config.interface.empty() && !config.program.empty())
		return fail_usage("-i and --prog both given", "name the interface (its program is captured) or the program");
	if (!config.program.empty()) {
		auto program = find_program(config.program);
		if (!program)
			return std::unexpected(std::move(program.error()));
		if (config.method == Method::Own || config.method == Method::Hook)
			return fail_usage(fmt::format("--method {} does not capture at a program given by --prog",
						      method_name(config.method)));
		if (config.method == Method::Trace)
			return fail(fmt::format("--method trace is not built yet (program {})", program->id),
				    "use --method wrap for a program attached to an interface");
		auto where = interface_of(program->id);
		if (!where)
			return fail(fmt::format("program {} ('{}') runs on no interface of this namespace: wrap cannot reach it",
						program->id, program->name));
		auto iface = interface_xdp(std::to_string(*where));
		if (!iface)
			return std::unexpected(std::move(iface.error()));
		plan.method = Method::Wrap;
		plan.interface = std::move(*iface);
		return plan;
	}
	if (config.interface.empty())
		return fail_usage("nothing to capture at", "give -i IFACE, --prog ID or --hook PATH");
	auto iface = interface_xdp(config.interface);
	if (!iface)
		return std::unexpected(std::move(iface.error()));
	bool has_program = iface->program.has_value();
	switch (config.method) {
	case Method::Auto:
		plan.method = has_program ? Method::Wrap : Method::Own;
		break;
	case Method::Wrap:
		if (!has_program)
			return fail_usage(fmt::format("{} runs no XDP program to wrap", iface->ifname),
					  "without --method, capx runs its own pass-through program there");
		plan.method = Method::Wrap;
		break;
	case Method::Own:
		if (has_program)
			return fail_usage(fmt::format("{} runs XDP program {} ('{}'): capx's own program cannot go there",
						      iface->ifname, iface->program->id, iface->program->name),
					  "capture at it with --method wrap (the default)");
		plan.method = Method::Own;
		break;
	case Method::Trace:
		return fail("--method trace is not built yet", "use --method wrap");
	case Method::Hook:
		return fail_usage("--method hook needs --hook PATH");
	}
	plan.interface = std::move(*iface);
	return plan;
}

std::string program_label(const ProgramInfo &p)
{
	return p.name.empty() ? fmt::format("prog{}", p.id) : p.name;
}

// The capture points of the plan, one per side written, in probe id order.
std::vector<CapturePoint> capture_points(const Plan &plan, const ProbeLayout &layout, const XdpConfig &config)
{
	std::vector<CapturePoint> points(layout.entry_probe.has_value() + layout.exit_probe.has_value());
	auto fill = [&](std::uint32_t id, std::string_view side) {
		CapturePoint &p = points[id];
		switch (plan.method) {
		case Method::Own:
			p.name = fmt::format("{}:capx@{}", plan.interface->ifname, side);
			p.description = fmt::format("capx xdp: capx's pass-through program on {}", plan.interface->ifname);
			break;
		case Method::Hook:
			p.name = fmt::format("{}@{}", config.hook, side);
			p.description = fmt::format("capx xdp: xdpcap hook {}", config.hook);
			break;
		default: {
			const ProgramInfo &prog = *plan.interface->program;
			p.name = fmt::format("{}:{}@{}", plan.interface->ifname, program_label(prog), side);
			p.description = fmt::format("capx xdp: {} of XDP program {} ({}) on {}", side, prog.id,
						    program_label(prog), plan.interface->ifname);
			break;
		}
		}
		p.linktype = kLinkEthernet;
		p.snaplen = layout.snaplen;
		p.filter = config.expression;
	};
	if (layout.entry_probe)
		fill(*layout.entry_probe, "entry");
	if (layout.exit_probe)
		fill(*layout.exit_probe, "exit");
	return points;
}

[[nodiscard]] Result<ProbeLayout> layout_for(const Plan &plan, const XdpConfig &config, const XdpFilter &filter)
{
	Sides sides = config.sides;
	if (!config.sides_given && plan.method == Method::Own)
		sides = {true, false}; // its exit is its entry: PASS, bytes unchanged
	if (plan.method == Method::Hook && sides.entry)
		return fail_usage("a hook sees packets at exit only", "drop entry from --capture");
	if (!sides.entry && !sides.exit)
		return fail_usage("--capture names no side");
	ProbeLayout layout;
	std::uint32_t next = 0;
	if (sides.entry)
		layout.entry_probe = next++;
	if (sides.exit)
		layout.exit_probe = next++;
	layout.actions = config.actions;
	layout.snaplen = bpf::record_snaplen(config.snaplen);
	layout.filter_bytes = filter.bytes_needed;
	layout.ring_bytes = config.ring_kib * 1024;
	return layout;
}

[[nodiscard]] Result<UniqueFd> dup_fd(int fd, std::string_view what)
{
	UniqueFd copy(fcntl(fd, F_DUPFD_CLOEXEC, 3));
	if (!copy)
		return fail_errno(errno, fmt::format("cannot duplicate the fd of {}", what));
	return copy;
}

std::string_view mode_name(std::uint32_t mode_flag)
{
	return mode_flag == XDP_FLAGS_DRV_MODE ? "native" : "generic";
}

// The changes that put capx's wrapper in place of the interface's program.
[[nodiscard]] Result<std::vector<Change>> wrap_changes(const InterfaceXdp &iface, const XdpProbes &probes)
{
	Change c;
	c.ifindex = iface.ifindex;
	c.mode_flag = iface.mode_flag;
	auto ours = dup_fd(probes.program_fd(), "capx's program");
	auto theirs = dup_fd(iface.program->fd.get(), "the wrapped program");
	if (!ours || !theirs)
		return std::unexpected(ours ? theirs.error() : ours.error());
	c.ours = std::move(*ours);
	c.theirs = std::move(*theirs);
	if (iface.link_id) {
		c.kind = Change::Kind::Link;
		c.what = fmt::format("XDP program of {} (bpf_link {})", iface.ifname, *iface.link_id);
		c.holder.reset(bpf_link_get_fd_by_id(*iface.link_id));
		if (!c.holder)
			return fail_errno(errno, fmt::format("cannot open bpf_link {} of {}", *iface.link_id, iface.ifname));
	} else {
		c.kind = Change::Kind::Netlink;
		c.what = fmt::format("XDP program of {}", iface.ifname);
	}
	std::vector<Change> out;
	out.push_back(std::move(c));
	return out;
}

[[nodiscard]] Result<std::vector<Change>> hook_changes(const Plan &plan, const XdpProbes &probes)
{
	std::vector<Change> out;
	for (std::uint32_t slot = 0; slot < plan.hook_slots; slot++) {
		Change c;
		c.kind = Change::Kind::Slot;
		c.slot = slot;
		c.what = fmt::format("slot {} of hook {}", slot, plan.hook_path);
		auto ours = dup_fd(probes.hook_program_fd(slot), "capx's hook program");
		auto map = dup_fd(plan.hook_map.get(), "the hook map");
		if (!ours || !map)
			return std::unexpected(ours ? map.error() : ours.error());
		c.ours = std::move(*ours);
		c.holder = std::move(*map);
		out.push_back(std::move(c));
	}
	return out;
}

[[nodiscard]] Result<void> attach(const Plan &plan, XdpProbes &probes)
{
	if (plan.method == Method::Own) {
		const InterfaceXdp &iface = *plan.interface;
		if (auto r = probes.attach_own(iface.ifindex, iface.ifname); !r)
			return r;
		spdlog::info("{} runs no XDP program: capx attached its own pass-through program there (every "
			     "packet passes; removed on exit)", iface.ifname);
		return {};
	}
	auto changes = plan.method == Method::Hook ? hook_changes(plan, probes) : wrap_changes(*plan.interface, probes);
	if (!changes)
		return std::unexpected(std::move(changes.error()));
	auto set = ChangeSet::apply_all(std::move(*changes));
	if (!set)
		return std::unexpected(std::move(set.error()));
	probes.hold(std::move(*set));
	if (plan.method == Method::Hook) {
		spdlog::info("capturing at xdpcap hook {} ({} actions)", plan.hook_path, plan.hook_slots);
	} else {
		const InterfaceXdp &iface = *plan.interface;
		spdlog::info("wrapping XDP program {} ({}) on {} ({} mode{}); it is put back on exit",
			     iface.program->id, program_label(*iface.program), iface.ifname, mode_name(iface.mode_flag),
			     iface.link_id ? fmt::format(", bpf_link {}", *iface.link_id) : std::string{});
	}
	return {};
}

} // namespace

[[nodiscard]] Result<std::unique_ptr<Source>> XdpSource::make(const XdpConfig &config)
{
	auto plan = plan_capture(config);
	if (!plan)
		return std::unexpected(std::move(plan.error()));
	std::uint32_t snaplen = bpf::record_snaplen(config.snaplen);
	auto filter = build_xdp_filter(config.expression, snaplen);
	if (!filter)
		return std::unexpected(std::move(filter.error()));
	auto layout = layout_for(*plan, config, *filter);
	if (!layout)
		return std::unexpected(std::move(layout.error()));

	Result<std::unique_ptr<XdpProbes>> probes = fail("no method");
	if (plan->method == Method::Hook)
		probes = XdpProbes::hook(plan->hook_map.get(), *layout, filter->bodies);
	else
		probes = XdpProbes::wrapper(plan->method == Method::Wrap ? &*plan->interface->program : nullptr, *layout,
					    filter->bodies);
	if (!probes)
		return std::unexpected(bpf::explain_refusal(std::move(probes.error()), "xdp", config.expression));
	if (auto r = attach(*plan, **probes); !r)
		return std::unexpected(std::move(r.error()));

	std::vector<CapturePoint> points = capture_points(*plan, *layout, config);
	std::uint32_t ifindex = plan->interface ? plan->interface->ifindex : 0;
	std::string ifname = plan->interface ? plan->interface->ifname : std::string{};
	return BpfRingSource::make<XdpSourceImpl>(std::move(*probes), std::move(points), WallClock::measure(CLOCK_MONOTONIC),
						  ifindex, std::move(ifname));
}

} // namespace capx::xdp
