// SPDX-License-Identifier: GPL-2.0-only
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
constexpr std::size_t kBatchFraction = 32;
// How long the reader sleeps while a batch fills up: the time the ring takes
// to grow from what it holds to kNapTarget batches at the rate seen during
// the naps before, within these bounds. One timer per batch rather than
// many (each nap is a timer and two context switches, costly on this VM),
// and little overshoot at high byte rates (1500-byte floods fill a fixed
// 1 ms nap's worth past the wakeup threshold). Aiming at exactly one batch
// undershot about half the time (the rate jitters) and took a second nap;
// aiming at two keeps a nap that falls short by up to half above the batch,
// and the ring below the BPF side's wakeup threshold (4 batches). Before,
// the nap was sized at its end for the rest of the batch, which after a nap
// that reached it was nothing: the next batch began with a minimum nap.
// perf put a quarter of capx skb's CPU at a 64-byte flood in context
// switches, twice tcpdump's count.
constexpr double kNapTarget = 2.0;
constexpr long kMinNapNs = 50'000;
constexpr long kMaxNapNs = 2'000'000;
// The first nap, before any rate is known.
constexpr long kFirstNapNs = kMaxNapNs / 4;

using Clock = std::chrono::steady_clock;

// Sleeps `ns`, or less when a stop is requested.
void nap(long ns)
{
	struct pollfd p{stop::fd(), POLLIN, 0};
	const struct timespec t{0, ns};
	(void)::ppoll(&p, 1, &t, nullptr);
}

// The fill rate seen during the last naps, bytes per ns (0: not known yet);
// each source reads its ring from one thread (the pipeline's).
thread_local double fill_rate = 0;

// Naps until `batch` bytes wait in `ring`, `limit` passes or a stop comes.
void wait_for_batch(bpf::RingBuffer &ring, std::size_t batch, Clock::time_point limit)
{
	std::size_t avail = ring.available();
	if (avail == 0 || avail >= batch)
		return;
	const double target = kNapTarget * static_cast<double>(batch);
	for (auto before = Clock::now(); !stop::requested() && before < limit;) {
		long ns = kFirstNapNs;
		if (fill_rate > 0)
			ns = std::clamp(static_cast<long>((target - static_cast<double>(avail)) / fill_rate), kMinNapNs,
					kMaxNapNs);
		nap(ns);
		const auto after = Clock::now();
		const std::size_t now = ring.available();
		const double slept = static_cast<double>(std::chrono::nanoseconds(after - before).count());
		if (slept > 0) {
			// Half the new sample: one odd nap (a late timer) moves
			// the estimate only half-way; a nap without new records
			// halves it, so that the naps grow when the flow stops.
			const double rate = static_cast<double>(now > avail ? now - avail : 0) / slept;
			fill_rate = fill_rate > 0 ? (fill_rate + rate) / 2 : rate;
		}
		if (now >= batch)
			return;
		avail = now;
		before = after;
	}
}

} // namespace

[[nodiscard]] Result<void> read_ring(bpf::RingBuffer &ring, bpf::RecordHandler &handler, std::chrono::milliseconds timeout)
{
	const auto start = Clock::now();
	const auto deadline = start + timeout;
	const std::size_t batch = ring.size() / kBatchFraction;
	for (;;) {
		// Data waiting, but less than a batch: let it grow, within the
		// latency bound (counted from this call: the caller reads again
		// right after a batch, so a record waits at most about that).
		wait_for_batch(ring, batch, std::min(start + kLatencyBound, deadline));
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
