#include "capture/bpf_ring_read.hpp"

#include <algorithm>

#include "core/stop.hpp"

namespace capx {

namespace {

constexpr std::chrono::milliseconds kLatencyBound{50};

using Clock = std::chrono::steady_clock;

} // namespace

Result<void> read_ring(bpf::RingBuffer &ring, bpf::RecordHandler &handler, std::chrono::milliseconds timeout)
{
	const auto deadline = Clock::now() + timeout;
	for (;;) {
		auto n = ring.consume(handler);
		if (!n)
			return std::unexpected(std::move(n.error()));
		if (*n > 0 || stop::requested())
			return {};
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
		if (left <= std::chrono::milliseconds::zero())
			return {};
		auto waited = ring.poll(std::min(left, kLatencyBound), handler);
		if (!waited)
			return std::unexpected(std::move(waited.error()));
		if (*waited > 0)
			return {};
	}
}

} // namespace capx
