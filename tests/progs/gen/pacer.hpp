// Paces frames to a fixed rate: frame n is due at start + n / rate. The send
// loop asks how many frames are due and sends them all at once, so batches
// stay at one frame while a frame fits between two deadlines and grow only
// as far as the rate needs.
#pragma once

#include <cstdint>

namespace capx::gen {

class Pacer {
public:
	// rate_pps 0 means unpaced: everything is always due.
	Pacer(std::uint64_t rate_pps, std::uint64_t start_ns) : rate_(rate_pps), start_(start_ns) {}

	// How many frames (counting from 0) are due at now_ns.
	std::uint64_t due(std::uint64_t now_ns) const;
	// When frame n is due.
	std::uint64_t due_time(std::uint64_t n) const;
	// Blocks until frame n is due: sleeps while it is far off, then spins,
	// because a timer wakes up tens of microseconds late.
	void wait_for(std::uint64_t n) const;

private:
	std::uint64_t rate_;
	std::uint64_t start_;
};

} // namespace capx::gen
