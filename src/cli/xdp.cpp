// SPDX-License-Identifier: GPL-2.0-only
// `capx xdp [-i IFACE | --prog ID | --hook PATH] [options] [EXPR]`: packets
// at XDP programs, with each packet's verdict (src/capture/xdp/), with
// tcpdump's shared options.
#include <memory>
#include <string>

#include "capture/xdp/xdp_config.hpp"
#include "capture/xdp/xdp_source.hpp"
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "core/packet.hpp"

namespace capx::cli {

namespace {

struct XdpArguments {
	CaptureOptions capture;
	xdp::XdpConfig xdp;
	std::string method;
	std::string sides;
	std::string actions;

	[[nodiscard]] Result<void> finalize()
	{
		if (auto r = capture.finalize(); !r)
			return r;
		if (!method.empty()) {
			auto m = xdp::parse_method(method);
			if (!m)
				return std::unexpected(std::move(m.error()));
			xdp.method = *m;
		}
		if (!sides.empty()) {
			auto s = xdp::parse_sides(sides);
			if (!s)
				return std::unexpected(std::move(s.error()));
			xdp.sides = *s;
			xdp.sides_given = true;
		}
		if (!actions.empty()) {
			auto a = xdp::parse_actions(actions);
			if (!a)
				return std::unexpected(std::move(a.error()));
			xdp.actions = *a;
		}
		auto expr = capture.filter_expression();
		if (!expr)
			return std::unexpected(std::move(expr.error()));
		xdp.expression = std::move(*expr);
		xdp.snaplen = capture.snaplen;
		return {};
	}
};

[[nodiscard]] Result<void> run_xdp(XdpArguments &args)
{
	if (auto r = args.finalize(); !r)
		return r;
	return dump_or_capture(
		args.capture, [&] { return CbpfProgram::compile(args.xdp.expression, kLinkEthernet, args.xdp.snaplen); },
		[&] { return xdp::XdpSource::make(args.xdp); });
}

} // namespace

void add_xdp_command(CLI::App &parent, CommandList &commands)
{
	auto *app = parent.add_subcommand("xdp", "Capture at XDP programs, with each packet's verdict (BPF)");
	auto args = std::make_shared<XdpArguments>();
	auto &x = args->xdp;
	app->add_option("-i,--interface", x.interface,
			"Capture at the XDP program of this device (a name or an ifindex), or, where none runs, "
			"through capx's own pass-through program")
		->type_name("IFACE")->check(non_empty());
	app->add_option("--prog", x.program, "Capture at this XDP program: an id (bpftool prog) or a bpffs pin")
		->type_name("ID|PATH")->check(non_empty());
	app->add_option("--hook", x.hook,
			"Capture through an xdpcap hook: the PROG_ARRAY the program pinned and tail-calls with its "
			"action")
		->type_name("PATH")->check(non_empty());
	app->add_option("--method", args->method,
			"How to reach the packets: auto (default), trace (fentry/fexit), wrap (run the program "
			"from capx's), own (capx's pass-through program), hook (xdpcap)")
		->type_name("METHOD")->check(non_empty());
	app->add_option("--capture", args->sides,
			"Sides of the program to write: entry (before it runs), exit (as it left the packet, "
			"the default); entry,exit for both")
		->type_name("SIDES")->check(non_empty());
	app->add_option("--action", args->actions,
			"Only packets with these verdicts: aborted, drop, pass, tx, redirect, other "
			"(comma-separated)")
		->type_name("LIST")->check(non_empty());
	app->add_option("-B,--buffer-size", x.ring_kib, "Size of the BPF ring buffer in KiB (default 8192)")
		->type_name("KIB")->check(CLI::Range(std::uint64_t{4}, std::uint64_t{2} * 1024 * 1024));
	add_capture_options(*app, args->capture);
	commands.push_back({app, [args]() -> Result<void> { return run_xdp(*args); }});
}

} // namespace capx::cli
