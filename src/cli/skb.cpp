// SPDX-License-Identifier: GPL-2.0-only
// `capx skb -f SPEC... [options] [EXPR]`: packets as kernel functions and
// tracepoints see their sk_buffs (src/capture/skb/), with tcpdump's shared
// options.
#include <memory>
#include <string>
#include <vector>

#include "capture/skb/probe_spec.hpp"
#include "capture/skb/skb_arguments.hpp"
#include "capture/skb/skb_source.hpp"
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "core/log.hpp"
#include "core/packet.hpp"

namespace capx::cli {

namespace {

constexpr const char *kProbeExample = "e.g. capx skb -f tp:net:netif_receive_skb -f tp:skb:kfree_skb icmp";

struct SkbArguments {
	CaptureOptions capture;
	skb::SkbConfig skb;
	std::vector<std::string> probes; // -f, as given
	std::string mark;

	[[nodiscard]] Result<void> finalize()
	{
		if (auto r = capture.finalize(); !r)
			return r;
		if (probes.empty())
			return fail_usage("no probe given: -f SPEC is required", kProbeExample);
		// Syntax first, also for -d: a typo in a spec is a typo whatever
		// else was asked.
		auto specs = skb::parse_probe_specs(probes);
		if (!specs)
			return std::unexpected(std::move(specs.error()));
		skb.probes = std::move(*specs);
		auto expr = capture.filter_expression();
		if (!expr)
			return std::unexpected(std::move(expr.error()));
		skb.expression = std::move(*expr);
		skb.snaplen = capture.snaplen;
		if (!mark.empty()) {
			auto m = skb::parse_mark_argument(mark);
			if (!m)
				return std::unexpected(std::move(m.error()));
			skb.mark = *m;
		}
		return {};
	}
};

[[nodiscard]] Result<void> run_skb(SkbArguments &args)
{
	if (auto r = args.finalize(); !r)
		return r;
	return dump_or_capture(
		args.capture,
		// The program for packets seen with their MAC header, the usual
		// case; `capx filter -d` shows every mode.
		[&] { return CbpfProgram::compile(args.skb.expression, kLinkEthernet, args.skb.snaplen); },
		[&] {
			if (args.skb.stacks && !sink_shows_metadata(args.capture.output))
				spdlog::warn("-S: stacks are written into pcapng packet comments and --print lines; "
					     "this output has no place for them");
			return skb::SkbSource::make(args.skb);
		});
}

} // namespace

void add_skb_command(CLI::App &parent, CommandList &commands)
{
	auto *app = parent.add_subcommand("skb", "Capture sk_buffs at kernel functions and tracepoints (BPF)");
	auto args = std::make_shared<SkbArguments>();
	auto &s = args->skb;
	app->add_option("-f,--probe", args->probes,
			"Where to capture: FUNC[@N], fentry:FUNC[@N], fexit:FUNC[@N], kprobe:FUNC[@N], "
			"tracepoint:SUBSYS:NAME (tp:), raw_tp:NAME; repeatable, comma-separated lists too")
		->type_name("SPEC")->take_all()->allow_extra_args(false)->check(non_empty());
	app->add_option("-i,--interface", s.interface,
			"Only packets on this device: a name (in capx's namespace) or an ifindex (taken as is)")
		->type_name("IFACE")->check(non_empty());
	app->add_option("--netns", s.netns,
			"Only packets in this network namespace: an inode number, /proc/PID/ns/net or "
			"/run/netns/NAME")
		->type_name("NS")->check(non_empty());
	app->add_option("--mark", args->mark, "Only packets with this skb->mark (decimal or 0x hex)")
		->type_name("MARK")->check(non_empty());
	app->add_flag("-S,--stack", s.stacks, "Record the kernel stack of each packet (in the pcapng comment)");
	app->add_option("-B,--buffer-size", s.ring_kib, "Size of the BPF ring buffer in KiB (default 8192)")
		->type_name("KIB")->check(CLI::Range(std::uint64_t{4}, std::uint64_t{2} * 1024 * 1024));
	add_capture_options(*app, args->capture);
	commands.push_back({app, [args]() -> Result<void> { return run_skb(*args); }});
}

} // namespace capx::cli
