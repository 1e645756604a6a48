// SPDX-License-Identifier: GPL-2.0-only
#include "core/clock.hpp"

#include <limits>

namespace capx {

std::uint64_t clock_ns(clockid_t clock)
{
	timespec ts{};
	::clock_gettime(clock, &ts);
	return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

WallClock WallClock::measure(clockid_t kernel_clock)
{
	WallClock best;
	best.uncertainty_ns_ = std::numeric_limits<std::uint64_t>::max();
	for (int i = 0; i < 16; i++) {
		std::uint64_t before = clock_ns(kernel_clock);
		std::uint64_t wall = clock_ns(CLOCK_REALTIME);
		std::uint64_t after = clock_ns(kernel_clock);
		std::uint64_t width = after - before;
		if (width < best.uncertainty_ns_) {
			best.uncertainty_ns_ = width;
			best.offset_ns_ = wall - (before + width / 2);
		}
	}
	return best;
}

} // namespace capx
