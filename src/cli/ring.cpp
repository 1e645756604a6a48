// SPDX-License-Identifier: GPL-2.0-only
// `capx ring -i IFACE [options] [EXPR]`: the AF_PACKET TPACKET_V3 capture
// point (src/capture/ring/), with tcpdump's shared options.
#include <memory>
#include <string>

#include "capture/ring/ring_config.hpp"
#include "capture/ring/ring_source.hpp"
#include "cli/command.hpp"
#include "cli/options.hpp"

namespace capx::cli {

namespace {

struct RingArguments {
	CaptureOptions capture;
	ring::RingConfig ring;
	std::string direction = "inout";
	std::string fanout = "hash";
	bool fanout_given = false;
	std::string timestamp = "host";
	bool no_promiscuous = false;

	[[nodiscard]] Result<void> finalize()
	{
		if (auto r = capture.finalize(); !r)
			return r;
		auto expr = capture.filter_expression();
		if (!expr)
			return std::unexpected(std::move(expr.error()));
		ring.expression = std::move(*expr);
		ring.snaplen = capture.snaplen;
		ring.promiscuous = !no_promiscuous;
		auto d = ring::parse_direction(direction);
		auto f = ring::parse_fanout(fanout);
		auto t = ring::parse_timestamp_type(timestamp);
		if (!d)
			return std::unexpected(std::move(d.error()));
		if (!f)
			return std::unexpected(std::move(f.error()));
		if (!t)
			return std::unexpected(std::move(t.error()));
		ring.direction = *d;
		ring.fanout = *f;
		ring.timestamp = *t;
		if (fanout_given && ring.threads < 2)
			return fail_usage("--fanout needs --threads 2 or more");
		return ring.validate();
	}
};

[[nodiscard]] Result<void> run_ring(RingArguments &args)
{
	if (auto r = args.finalize(); !r)
		return r;
	return dump_or_capture(
		args.capture, [&] { return ring::compile_filter(args.ring); },
		[&] { return ring::RingSource::make(args.ring); });
}

} // namespace

void add_ring_command(CLI::App &parent, CommandList &commands)
{
	auto *app = parent.add_subcommand("ring", "Capture from an AF_PACKET TPACKET_V3 mmap ring");
	auto args = std::make_shared<RingArguments>();
	auto &r = args->ring;
	app->add_option("-i,--interface", r.interface,
			"Capture on INTERFACE (a name, an ifindex, or 'any' for all, written as LINUX_SLL2)")
		->type_name("INTERFACE")->required()->check(non_empty());
	app->add_option("-B,--buffer-size", r.ring_kib,
			"Size of each thread's ring in KiB (default 8192)")
		->type_name("KIB")->check(positive_number());
	app->add_option("--block-size", r.block_kib,
			"Size of one ring block in KiB, a multiple of the page size (default 256); "
			"a packet larger than a block is truncated")
		->type_name("KIB")->check(positive_number());
	app->add_option("--retire-timeout", r.retire_timeout_ms,
			"Hand over a partly filled block after MS milliseconds (default 20)")
		->type_name("MS")->check(positive_number());
	app->add_option("--threads", r.threads,
			"Read with N sockets in one PACKET_FANOUT group, one thread each (default 1)")
		->type_name("N")->check(CLI::Range(1, 64));
	app->add_option("--fanout", args->fanout,
			"How the kernel spreads packets over --threads: hash (per flow, default), cpu, lb, rollover")
		->type_name("MODE")
		->each([a = args.get()](const std::string &) { a->fanout_given = true; });
	app->add_flag("-p,--no-promiscuous-mode", args->no_promiscuous,
		      "Do not put the interface into promiscuous mode");
	app->add_option("-Q,--direction", args->direction,
			"Keep packets received (in), sent (out) or both (inout, default)")
		->type_name("DIR");
	app->add_option("--time-stamp-type,-j", args->timestamp,
			"host (kernel clock, default), adapter or adapter_unsynced (the NIC's clock; "
			"not on veth or 'any')")
		->type_name("TYPE");
	add_capture_options(*app, args->capture);
	commands.push_back({app, [args]() -> Result<void> { return run_ring(*args); }});
}

} // namespace capx::cli
