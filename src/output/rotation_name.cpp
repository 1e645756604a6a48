// SPDX-License-Identifier: GPL-2.0-only
#include "output/rotation_name.hpp"

#include <vector>

#include <fmt/format.h>

namespace capx {

int ring_digits(std::uint32_t file_limit)
{
	int digits = 0;
	for (std::uint32_t x = file_limit == 0 ? 0 : file_limit - 1; x > 0; x /= 10)
		digits++;
	return digits;
}

[[nodiscard]] Result<std::string> rotation_file_name(const std::string &pattern, std::optional<std::time_t> slot_start,
				       std::uint32_t count, int width)
{
	std::string name = pattern;
	if (slot_start) {
		struct tm local;
		if (!::localtime_r(&*slot_start, &local))
			return fail(fmt::format("-G: cannot convert time {} to local time", *slot_start));
		// strftime(3) returns 0 both for "too small" and for an empty
		// result; grow a few times, then call it empty.
		std::vector<char> buf(pattern.size() + 256);
		std::size_t n = 0;
		for (int tries = 0; tries < 4 && n == 0; tries++, buf.resize(buf.size() * 8))
			n = std::strftime(buf.data(), buf.size(), pattern.c_str(), &local);
		if (n == 0)
			return fail_usage(fmt::format("-w {}: the strftime(3) pattern gives an empty file name", pattern));
		name.assign(buf.data(), n);
	}
	if (count != 0 || width != 0)
		name += fmt::format("{:0{}}", count, width);
	return name;
}

} // namespace capx
