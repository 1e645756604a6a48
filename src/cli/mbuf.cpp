// SPDX-License-Identifier: GPL-2.0-only
// `capx mbuf (--pid PID | --binary PATH) (-f SPEC... [--ret] | --port P
// [--queue Q] --rx|--tx) [options] [EXPR]`: packets as a running DPDK
// application's functions see its rte_mbufs (src/capture/mbuf/), with
// tcpdump's shared options.
#include <memory>
#include <string>
#include <vector>

#include "capture/mbuf/mbuf_layout.hpp"
#include "capture/mbuf/mbuf_probe_spec.hpp"
#include "capture/mbuf/mbuf_source.hpp"
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "core/packet.hpp"

namespace capx::cli {

namespace {

struct MbufArguments {
	CaptureOptions capture;
	mbuf::MbufConfig mbuf;
	std::vector<std::string> probes; // -f, as given
	std::string layout;              // --mbuf-layout, as given

	[[nodiscard]] Result<void> finalize()
	{
		if (auto r = capture.finalize(); !r)
			return r;
		// Syntax and combinations first, also for -d: a typo in a spec is
		// a typo whatever else was asked.
		auto specs = mbuf::parse_probe_specs(probes);
		if (!specs)
			return std::unexpected(std::move(specs.error()));
		mbuf.probes = std::move(*specs);
		if (!layout.empty()) {
			auto parsed = mbuf::parse_layout(layout);
			if (!parsed)
				return std::unexpected(std::move(parsed.error()));
			mbuf.layout = std::move(*parsed);
		}
		if (auto r = mbuf::check_config(mbuf); !r)
			return r;
		auto expr = capture.filter_expression();
		if (!expr)
			return std::unexpected(std::move(expr.error()));
		mbuf.expression = std::move(*expr);
		mbuf.snaplen = capture.snaplen;
		return {};
	}
};

[[nodiscard]] Result<void> run_mbuf(MbufArguments &args)
{
	if (auto r = args.finalize(); !r)
		return r;
	return dump_or_capture(
		args.capture,
		// DPDK hands over whole frames: the filter is always Ethernet's.
		[&] { return CbpfProgram::compile(args.mbuf.expression, kLinkEthernet, args.mbuf.snaplen); },
		[&] { return mbuf::MbufSource::make(args.mbuf); });
}

} // namespace

void add_mbuf_command(CLI::App &parent, CommandList &commands)
{
	auto *app = parent.add_subcommand("mbuf", "Capture rte_mbufs inside a running DPDK application (uprobes)");
	auto args = std::make_shared<MbufArguments>();
	auto &m = args->mbuf;
	app->add_option("--pid", m.pid, "The DPDK process to capture in (all its threads)")->type_name("PID");
	app->add_option("--binary", m.binary,
			"Capture in every process running this executable, also ones started later")
		->type_name("PATH")->check(non_empty());
	app->add_option("-f,--probe", args->probes,
			"A function to probe: SYMBOL@N (argument N is a struct rte_mbuf *) or SYMBOL@N@M (an mbuf "
			"array at N, its count at M); SYMBOL may be LIB:NAME or LIB:0xOFFSET; N, M in 1..6; "
			"repeatable, comma-separated lists too")
		->type_name("SPEC")->take_all()->allow_extra_args(false)->check(non_empty());
	app->add_flag("--ret", m.on_return,
		      "Read every -f probe when its function returns: argument N is an mbuf array the call "
		      "filled, the return value its count (an @M is not used)");
	app->add_option("--port", m.port, "Probe the burst function of this DPDK port (no symbols needed)")
		->type_name("P");
	app->add_option("--queue", m.queue, "With --port: only this queue (default: every queue of the port)")
		->type_name("Q");
	app->add_flag("--rx", m.rx, "With --port: the packets the driver's rx burst returned");
	app->add_flag("--tx", m.tx, "With --port: the packets handed to the driver's tx burst (offered, not "
				    "necessarily sent)");
	app->add_option("--mbuf-layout", args->layout,
			"struct rte_mbuf layout: a built-in name (dpdk-22.11 ...) or FIELD=OFFSET,... "
			"(default: detected from the process)")
		->type_name("LAYOUT")->check(non_empty());
	app->add_option("-B,--buffer-size", m.ring_kib, "Size of the BPF ring buffer in KiB (default 8192)")
		->type_name("KIB")->check(CLI::Range(std::uint64_t{4}, std::uint64_t{2} * 1024 * 1024));
	add_capture_options(*app, args->capture);
	commands.push_back({app, [args]() -> Result<void> { return run_mbuf(*args); }});
}

} // namespace capx::cli
