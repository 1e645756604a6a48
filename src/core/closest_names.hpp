// SPDX-License-Identifier: GPL-2.0-only
// "Did you mean": the names closest to a mistyped one, for the hints of
// unknown kernel functions (capx skb) and unknown ELF symbols (capx mbuf).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace capx {

// Optimal string alignment distance: Levenshtein plus the swap of two
// neighbours, the commonest typo (ip_rvc).
std::size_t osa_distance(std::string_view a, std::string_view b);

// Up to `limit` of `candidates` closest to `wanted` (optimal string
// alignment distance, at most a third of the name's length), closest
// first: the "did you mean" of an unknown name.
std::vector<std::string> closest_names(std::string_view wanted, const std::vector<std::string> &candidates,
				       std::size_t limit = 3);

} // namespace capx
