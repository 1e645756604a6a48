// SPDX-License-Identifier: GPL-2.0-only
// How subcommands plug into main: each registers its CLI11 sub-app and the
// function that runs it once parsed.
#pragma once

#include <functional>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/error.hpp"

namespace capx::cli {

struct Command {
	CLI::App *app;
	std::function<Result<void>()> run;
};

using CommandList = std::vector<Command>;

void add_ring_command(CLI::App &parent, CommandList &commands);
void add_filter_command(CLI::App &parent, CommandList &commands);
void add_list_command(CLI::App &parent, CommandList &commands);
void add_skb_command(CLI::App &parent, CommandList &commands);
void add_mbuf_command(CLI::App &parent, CommandList &commands);
void add_xdp_command(CLI::App &parent, CommandList &commands);

} // namespace capx::cli
