// SPDX-License-Identifier: GPL-2.0-only
// Paces frames to a fixed rate: frame n is due at start + (n - base) / rate.
// The send loop asks how many frames are due and sends them all at once, so
// batches stay at one frame while a frame fits between two deadlines and
// grow only as far as the rate needs.
//
// It does not catch up after a stall: a frame found more than max_lag late
// restarts the schedule at that frame and now (a stall), so a stall of the
// sender's CPU never turns into a burst above the rate (beyond max_lag's
// worth of frames) that would decide, instead of the tool, what a capture
// loses.
#pragma once

#include <cstdint>

namespace capx::gen {

// Restarts of the schedule: how many, their summed and longest lateness.
struct Stalls {
	std::uint64_t count = 0;
	std::uint64_t total_ns = 0;
	std::uint64_t max_ns = 0;
};

class Pacer {
public:
	// rate_pps 0 means unpaced: everything is always due.
	Pacer(std::uint64_t rate_pps, std::uint64_t start_ns, std::uint64_t max_lag_ns)
		: rate_(rate_pps), start_(start_ns), max_lag_(max_lag_ns)
	{
	}

	// How many frames (counting from 0) are due at now_ns.
	std::uint64_t due(std::uint64_t now_ns) const;
	// When frame n is due.
	std::uint64_t due_time(std::uint64_t n) const;
	// Blocks until frame n is due: sleeps while it is far off, then spins,
	// because a timer wakes up tens of microseconds late.
	void wait_for(std::uint64_t n) const;
	// If frame n (the next to send) is more than max_lag late at now_ns,
	// makes it due at now_ns and counts a stall.
	void restart_if_late(std::uint64_t n, std::uint64_t now_ns);

	const Stalls &stalls() const { return stalls_; }

private:
	std::uint64_t rate_;
	std::uint64_t start_;
	std::uint64_t base_ = 0; // the frame due at start_
	std::uint64_t max_lag_;
	Stalls stalls_;
};

} // namespace capx::gen
