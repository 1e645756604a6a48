// SPDX-License-Identifier: GPL-2.0-only
#include "core/closest_names.hpp"

#include <algorithm>

namespace capx {

std::size_t osa_distance(std::string_view a, std::string_view b)
{
	std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
	for (std::size_t i = 0; i <= a.size(); i++)
		d[i][0] = i;
	for (std::size_t j = 0; j <= b.size(); j++)
		d[0][j] = j;
	for (std::size_t i = 1; i <= a.size(); i++)
		for (std::size_t j = 1; j <= b.size(); j++) {
			std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
		}
	return d[a.size()][b.size()];
}

std::vector<std::string> closest_names(std::string_view wanted, const std::vector<std::string> &candidates,
				       std::size_t limit)
{
	std::size_t threshold = std::max<std::size_t>(1, wanted.size() / 3);
	std::vector<std::pair<std::size_t, const std::string *>> scored;
	for (const std::string &c : candidates) {
		// The distance is at least the length difference: skip the work.
		std::size_t diff = c.size() > wanted.size() ? c.size() - wanted.size() : wanted.size() - c.size();
		if (diff > threshold)
			continue;
		if (std::size_t d = osa_distance(wanted, c); d <= threshold)
			scored.emplace_back(d, &c);
	}
	std::sort(scored.begin(), scored.end(), [](const auto &a, const auto &b) {
		return a.first != b.first ? a.first < b.first : *a.second < *b.second;
	});
	std::vector<std::string> out;
	for (const auto &[d, name] : scored) {
		if (out.size() == limit)
			break;
		if (std::find(out.begin(), out.end(), *name) == out.end())
			out.push_back(*name);
	}
	return out;
}

} // namespace capx
