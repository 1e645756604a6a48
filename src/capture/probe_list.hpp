// SPDX-License-Identifier: GPL-2.0-only
// The -f/--probe arguments of the BPF capture commands (capx skb, capx
// mbuf): each argument names one probe or several, comma-separated. One
// splitter, so that both commands take the same lists and word an empty
// piece the same way.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace capx {

// `s` without its leading and trailing blanks (space, tab, newline).
std::string_view trim_blanks(std::string_view s);

// The probe texts in `arguments`, split at commas and trimmed, in order.
// An empty piece ("a,,b", "a,", "") is a usage error hinted with `hint`
// (the command's probe grammar). The views point into `arguments`.
[[nodiscard]] Result<std::vector<std::string_view>> split_probe_list(const std::vector<std::string> &arguments,
						       std::string_view hint);

} // namespace capx
