// SPDX-License-Identifier: GPL-2.0-only
// Logging: spdlog, to stderr only (stdout may carry pcap).
#pragma once

#include <spdlog/spdlog.h>

namespace capx::log {

// verbosity 0 = info, 1 (-v) = debug, 2+ (-vv) = trace.
void setup(int verbosity);

} // namespace capx::log
