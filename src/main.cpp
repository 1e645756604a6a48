// SPDX-License-Identifier: GPL-2.0-only
// capx: one binary, one subcommand per capture point. main parses, runs the
// chosen subcommand, and maps errors to one line on stderr and an exit code.
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "capx_config.h"
#include "cli/command.hpp"
#include "core/log.hpp"
#include "core/stop.hpp"

namespace {

int report(const capx::Error &e)
{
	fmt::print(stderr, "capx: {}\n", e.message);
	if (!e.hint.empty())
		fmt::print(stderr, "hint: {}\n", e.hint);
	return static_cast<int>(e.status);
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"capx: capture packets wherever they are, as pcap", "capx"};
	app.set_version_flag("--version", CAPX_VERSION);
	app.require_subcommand(1);
	app.fallthrough();
	int verbosity = 0;
	app.add_flag("-v,--verbose", verbosity, "More log output on stderr (-vv for libbpf and verifier logs)");

	capx::cli::CommandList commands;
	capx::cli::add_ring_command(app, commands);
	capx::cli::add_filter_command(app, commands);
	capx::cli::add_list_command(app, commands);
	capx::cli::add_skb_command(app, commands);
	capx::cli::add_mbuf_command(app, commands);
	capx::cli::add_xdp_command(app, commands);

	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForAllHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForVersion &e) {
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		std::string hint = "see 'capx --help'";
		for (const auto &c : commands)
			if (c.app->parsed())
				hint = fmt::format("see 'capx {} --help'", c.app->get_name());
		return report(capx::Error{e.what(), hint, capx::ExitStatus::Usage});
	}

	capx::log::setup(verbosity);
	if (auto r = capx::stop::install(); !r)
		return report(r.error());

	for (auto &c : commands) {
		if (!c.app->parsed())
			continue;
		try {
			auto r = c.run();
			if (!r)
				return report(r.error());
			return 0;
		} catch (const std::exception &e) {
			// No exception is expected to get here; never let one abort().
			return report(capx::Error{fmt::format("internal error: {}", e.what()), {}, capx::ExitStatus::Runtime});
		}
	}
	return report(capx::Error{"no subcommand given", "see 'capx --help'", capx::ExitStatus::Usage});
}
