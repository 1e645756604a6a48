// SPDX-License-Identifier: GPL-2.0-only
// The -f/--probe arguments of the BPF capture commands (capx skb, capx
// mbuf): each argument names one probe or several, comma-separated. One
// splitter, so that both commands take the same lists and word an empty
// piece the same way.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace capx {

// `s` without its leading and trailing blanks (space, tab, newline).
std::string_view trim_blanks(std::string_view s);

// The probe texts in `arguments`, split at commas and trimmed, in order.
// An empty piece ("a,,b", "a,", "") is a usage error hinted with `hint`
// (the command's probe grammar), and so are more than CAPX_MAX_PROBES
// pieces: the one place that limit is checked. The views point into
// `arguments`.
[[nodiscard]] Result<std::vector<std::string_view>> split_probe_list(const std::vector<std::string> &arguments,
						       std::string_view hint);

// Each probe text of `arguments` (split_probe_list) through `parse_one`
// (std::string_view -> Result<Spec>), in order; the first error stops it.
template <typename Spec, typename ParseOne>
[[nodiscard]] Result<std::vector<Spec>> parse_probe_list(const std::vector<std::string> &arguments, std::string_view hint,
						    ParseOne parse_one)
{
	auto pieces = split_probe_list(arguments, hint);
	if (!pieces)
		return std::unexpected(std::move(pieces.error()));
	std::vector<Spec> specs;
	specs.reserve(pieces->size());
	for (std::string_view piece : *pieces) {
		Result<Spec> spec = parse_one(piece);
		if (!spec)
			return std::unexpected(std::move(spec.error()));
		specs.push_back(std::move(*spec));
	}
	return specs;
}

} // namespace capx
