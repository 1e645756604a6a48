// SPDX-License-Identifier: GPL-2.0-only
#include "core/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

namespace capx::log {

void setup(int verbosity)
{
	auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
	auto logger = std::make_shared<spdlog::logger>("capx", sink);
	logger->set_pattern("capx: %v");
	if (verbosity <= 0)
		logger->set_level(spdlog::level::info);
	else if (verbosity == 1)
		logger->set_level(spdlog::level::debug);
	else
		logger->set_level(spdlog::level::trace);
	// Errors must reach the user before the process exits.
	logger->flush_on(spdlog::level::trace);
	spdlog::set_default_logger(logger);
}

} // namespace capx::log
