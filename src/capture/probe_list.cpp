// SPDX-License-Identifier: GPL-2.0-only
#include "capture/probe_list.hpp"

#include <fmt/format.h>

#include "capx/event.h"

namespace capx {

std::string_view trim_blanks(std::string_view s)
{
	std::size_t begin = s.find_first_not_of(" \t\n");
	if (begin == std::string_view::npos)
		return {};
	std::size_t end = s.find_last_not_of(" \t\n");
	return s.substr(begin, end - begin + 1);
}

[[nodiscard]] Result<std::vector<std::string_view>> split_probe_list(const std::vector<std::string> &arguments,
						       std::string_view hint)
{
	std::vector<std::string_view> pieces;
	for (const std::string &argument : arguments) {
		std::string_view rest = argument;
		while (true) {
			std::size_t comma = rest.find(',');
			std::string_view piece = trim_blanks(rest.substr(0, comma));
			if (piece.empty())
				return fail_usage(fmt::format("empty probe in '{}'", argument), std::string(hint));
			pieces.push_back(piece);
			if (comma == std::string_view::npos)
				break;
			rest = rest.substr(comma + 1);
		}
	}
	// The counters map has a slot per probe id (include/capx/event.h).
	if (pieces.size() > CAPX_MAX_PROBES)
		return fail_usage(fmt::format("{} probes given; at most {} in one capture", pieces.size(),
					      CAPX_MAX_PROBES));
	return pieces;
}

} // namespace capx
