// SPDX-License-Identifier: GPL-2.0-only
// capx-gen's command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "gen/frame.hpp"

namespace capx::gen {

struct Options {
	std::string interface;
	std::optional<std::uint64_t> count;      // frames; stops at the first of count and duration
	std::optional<double> duration_seconds;
	std::uint64_t rate_pps = 0;              // 0 = as fast as possible
	std::size_t batch = 64;                  // most frames per send()
	double max_lag_ms = 1;                   // later than this restarts the schedule (a stall)
	bool json = false;
	bool xdp = false;                        // send with the XDP live-frames sender
	FrameSpec frame;
};

// Parses argv. A usage error carries ExitStatus::Usage; --help is printed
// here and comes back as std::nullopt.
[[nodiscard]] Result<std::optional<Options>> parse_options(int argc, char **argv);

} // namespace capx::gen
