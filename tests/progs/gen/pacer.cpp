// SPDX-License-Identifier: GPL-2.0-only
#include "gen/pacer.hpp"

#include <time.h>

#include <algorithm>
#include <limits>

#include "core/clock.hpp"
#include "core/stop.hpp"

namespace capx::gen {

namespace {

constexpr std::uint64_t ns_per_s = 1'000'000'000;
// Below this, sleeping would overshoot: spin instead.
constexpr std::uint64_t spin_ns = 100'000;

} // namespace

std::uint64_t Pacer::due(std::uint64_t now_ns) const
{
	if (rate_ == 0 || now_ns < start_)
		return rate_ == 0 ? std::numeric_limits<std::uint64_t>::max() : 0;
	// 128-bit: hours at millions of frames per second overflow 64 bits.
	unsigned __int128 elapsed = now_ns - start_;
	return base_ + static_cast<std::uint64_t>(elapsed * rate_ / ns_per_s) + 1;
}

std::uint64_t Pacer::due_time(std::uint64_t n) const
{
	if (rate_ == 0)
		return start_;
	if (n < base_)
		return start_;
	unsigned __int128 offset = static_cast<unsigned __int128>(n - base_) * ns_per_s / rate_;
	return start_ + static_cast<std::uint64_t>(offset);
}

void Pacer::restart_if_late(std::uint64_t n, std::uint64_t now_ns)
{
	if (rate_ == 0)
		return;
	const std::uint64_t due_ns = due_time(n);
	if (now_ns <= due_ns || now_ns - due_ns <= max_lag_)
		return;
	const std::uint64_t lag = now_ns - due_ns;
	stalls_.count++;
	stalls_.total_ns += lag;
	stalls_.max_ns = std::max(stalls_.max_ns, lag);
	start_ = now_ns;
	base_ = n;
}

void Pacer::wait_for(std::uint64_t n) const
{
	const std::uint64_t target = due_time(n);
	for (;;) {
		std::uint64_t now = clock_ns(CLOCK_MONOTONIC);
		if (now >= target || stop::requested())
			return;
		if (target - now > spin_ns) {
			std::uint64_t wake = target - spin_ns;
			timespec ts{static_cast<time_t>(wake / ns_per_s), static_cast<long>(wake % ns_per_s)};
			::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
		}
	}
}

} // namespace capx::gen
