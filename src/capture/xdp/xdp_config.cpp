// SPDX-License-Identifier: GPL-2.0-only
#include "capture/xdp/xdp_config.hpp"


#include <fmt/format.h>

#include "core/xdp_action.hpp"

namespace capx::xdp {

namespace {

constexpr const char *kActionHint = "actions: aborted, drop, pass, tx, redirect, other (any other value)";

// Calls `each` with every word of a comma-separated list; an empty word is
// an error of `what`.
template <typename F>
[[nodiscard]] Result<void> for_each_word(std::string_view list, std::string_view what, F each)
{
	if (list.empty())
		return fail_usage(fmt::format("empty {} list", what));
	std::size_t start = 0;
	while (start <= list.size()) {
		std::size_t end = list.find(',', start);
		if (end == std::string_view::npos)
			end = list.size();
		std::string_view word = list.substr(start, end - start);
		if (word.empty())
			return fail_usage(fmt::format("empty word in {} list '{}'", what, list));
		if (auto r = each(word); !r)
			return r;
		start = end + 1;
	}
	return {};
}

} // namespace

std::string_view method_name(Method m)
{
	switch (m) {
	case Method::Auto:
		return "auto";
	case Method::Trace:
		return "trace";
	case Method::Wrap:
		return "wrap";
	case Method::Own:
		return "own";
	case Method::Hook:
		return "hook";
	}
	return "?";
}

[[nodiscard]] Result<Method> parse_method(std::string_view word)
{
	for (Method m : {Method::Auto, Method::Trace, Method::Wrap, Method::Own, Method::Hook})
		if (word == method_name(m))
			return m;
	return fail_usage(fmt::format("unknown method '{}'", word), "methods: auto, trace, wrap, own, hook");
}

[[nodiscard]] Result<Sides> parse_sides(std::string_view list)
{
	Sides sides{false, false};
	auto r = for_each_word(list, "--capture", [&](std::string_view w) -> Result<void> {
		if (w == "entry")
			sides.entry = true;
		else if (w == "exit")
			sides.exit = true;
		else
			return fail_usage(fmt::format("unknown capture side '{}'", w), "sides: entry, exit (e.g. --capture entry,exit)");
		return {};
	});
	if (!r)
		return std::unexpected(std::move(r.error()));
	return sides;
}

[[nodiscard]] Result<std::uint32_t> parse_actions(std::string_view list)
{
	std::uint32_t mask = 0;
	auto r = for_each_word(list, "--action", [&](std::string_view w) -> Result<void> {
		for (std::size_t i = 0; i < kXdpActionNames.size(); i++)
			if (w == kXdpActionNames[i]) {
				mask |= 1u << i;
				return {};
			}
		if (w == "other") {
			mask |= 1u << kOtherAction;
			return {};
		}
		return fail_usage(fmt::format("unknown XDP action '{}'", w), kActionHint);
	});
	if (!r)
		return std::unexpected(std::move(r.error()));
	return mask;
}

} // namespace capx::xdp
