// SPDX-License-Identifier: GPL-2.0-only
// Converting kernel clocks to wall-clock time. The offset between
// CLOCK_REALTIME and a kernel clock is measured (several bracketed samples,
// narrowest bracket wins), not taken to the second.
#pragma once

#include <time.h>

#include <cstdint>

namespace capx {

std::uint64_t clock_ns(clockid_t clock);

class WallClock {
public:
	// Measures the offset of CLOCK_REALTIME from `kernel_clock`
	// (CLOCK_MONOTONIC for bpf_ktime_get_ns, CLOCK_BOOTTIME for
	// bpf_ktime_get_boot_ns).
	static WallClock measure(clockid_t kernel_clock = CLOCK_MONOTONIC);

	std::uint64_t to_wall_ns(std::uint64_t kernel_ns) const { return kernel_ns + offset_ns_; }
	std::int64_t offset_ns() const { return static_cast<std::int64_t>(offset_ns_); }
	// Width of the best bracket: how precise the offset is.
	std::uint64_t uncertainty_ns() const { return uncertainty_ns_; }

private:
	std::uint64_t offset_ns_ = 0; // unsigned wrap-around arithmetic
	std::uint64_t uncertainty_ns_ = 0;
};

} // namespace capx
