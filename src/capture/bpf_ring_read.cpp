#include "capture/bpf_ring_read.hpp"

#include <poll.h>

#include <algorithm>
#include <ctime>

#include "core/stop.hpp"

namespace capx {

namespace {

constexpr std::chrono::milliseconds kLatencyBound{50};

// Records are read in batches of at least this part of the ring (or
// whatever is there once kLatencyBound has passed since the last read).
// A reader that follows right behind the BPF side reads every cache line
// while the CPU that writes the records still holds it, and the line that
// ends one record and begins the next moves to the reader and back to the
// writer for each record: at a flood of small packets that was most of the
// reader's time (perf: the first loads from each record). Well below the
// wakeup threshold of the BPF side (a fraction of 8, src/capture/skb/
// probe_set.cpp, src/capture/mbuf/uprobe_set.cpp), beyond which every
// record forces a wakeup.
constexpr std::size_t kBatchFraction = 64;
// How long the reader sleeps while a batch fills up.
constexpr long kNapNs = 1'000'000;

using Clock = std::chrono::steady_clock;

// Sleeps kNapNs, or less when a stop is requested.
void nap()
{
	struct pollfd p{stop::fd(), POLLIN, 0};
	const struct timespec t{0, kNapNs};
	(void)::ppoll(&p, 1, &t, nullptr);
}

} // namespace

Result<void> read_ring(bpf::RingBuffer &ring, bpf::RecordHandler &handler, std::chrono::milliseconds timeout)
{
	const auto start = Clock::now();
	const auto deadline = start + timeout;
	const std::size_t batch = ring.size() / kBatchFraction;
	for (;;) {
		// Data waiting, but less than a batch: let it grow, within the
		// latency bound (counted from this call: the caller reads again
		// right after a batch, so a record waits at most about that).
		if (std::size_t avail = ring.available(); avail > 0 && avail < batch) {
			auto now = Clock::now();
			while (!stop::requested() && now - start < kLatencyBound && now < deadline &&
			       ring.available() < batch) {
				nap();
				now = Clock::now();
			}
		}
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
