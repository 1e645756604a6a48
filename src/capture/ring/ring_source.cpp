// SPDX-License-Identifier: GPL-2.0-only
#include "capture/ring/ring_source.hpp"

#include <linux/if_arp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "capture/ring/frame.hpp"
#include "capture/ring/hw_timestamp.hpp"
#include "capture/ring/interface.hpp"
#include "capture/ring/ring_filter.hpp"
#include "capture/ring/ring_socket.hpp"
#include "core/log.hpp"
#include "core/stop.hpp"
#include "core/unique_fd.hpp"

namespace capx::ring {

namespace {

// Ethernet-like devices are read raw and written as Ethernet; anything else
// (tun, ipip, ...) and "any" are read cooked and written as LINUX_SLL2.
bool reads_cooked(const Interface &iface)
{
	return iface.any() || (iface.arphrd != ARPHRD_ETHER && iface.arphrd != ARPHRD_LOOPBACK);
}

[[nodiscard]] Result<UniqueFd> make_eventfd()
{
	UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!fd)
		return fail_errno(errno, "eventfd");
	return fd;
}

void signal_fd(int fd)
{
	std::uint64_t one = 1;
	[[maybe_unused]] auto n = ::write(fd, &one, sizeof(one));
}

void drain_fd(int fd)
{
	std::uint64_t value;
	[[maybe_unused]] auto n = ::read(fd, &value, sizeof(value));
}

// poll(2) on a few fds; EINTR (a stop signal) counts as a wake-up.
int wait_for(std::span<pollfd> fds, int timeout_ms)
{
	int n = ::poll(fds.data(), fds.size(), timeout_ms);
	return n < 0 && errno == EINTR ? 0 : n;
}

// With --threads N > 1, one reader thread per socket only watches for
// retired blocks and queues them, in ring order, for the pipeline's thread,
// which reads their frames (the one pass over each packet) and gives each
// block back right after its packets are written.
struct Worker;

struct QueuedBlock {
	Worker *worker = nullptr;
	unsigned index = 0;
	bool in_flight = false; // queued or being written; guarded by the hub's mutex
};

// What the reader threads and the pipeline's thread share.
struct Hub {
	std::mutex mutex;
	std::deque<QueuedBlock *> ready;
	std::optional<Error> error;
	UniqueFd ready_fd;    // readable when `ready` or `error` changed
	UniqueFd shutdown_fd; // readable when the readers must end
	std::atomic<bool> shutdown{false};
};

struct Worker {
	RingSocket socket;
	std::vector<QueuedBlock> blocks;
	unsigned next_index = 0; // the next block to read, in ring order
	// Threaded only.
	UniqueFd returned_fd; // readable when a block the reader waits for came back
	bool wants_return = false; // guarded by the hub's mutex
	std::thread thread;
	Hub *hub = nullptr;
	RingStats totals; // this socket's share, read by the pipeline's thread only

	void run();
	bool wait_ready(unsigned index);
	void report(Error e);
};

void Worker::report(Error e)
{
	std::lock_guard lock(hub->mutex);
	if (!hub->error)
		hub->error = std::move(e);
	signal_fd(hub->ready_fd.get());
}

// Waits until block `index` is retired to us and not queued; false when
// shutting down.
bool Worker::wait_ready(unsigned index)
{
	const unsigned previous = (index + socket.block_count() - 1) % socket.block_count();
	for (;;) {
		if (hub->shutdown.load())
			return false;
		// POLLIN on the socket means "the block before the kernel's
		// current one is not the kernel's" (packet_poll ->
		// packet_previous_rx_frame, net/packet/af_packet.c), which stays
		// true while the pipeline holds that previous block. So while it
		// does, wait for the pipeline to give it back (it signals
		// returned_fd only when asked to), then for the socket.
		bool held;
		{
			std::lock_guard lock(hub->mutex);
			if (!blocks[index].in_flight && RingSocket::owned_by_user(socket.block(index))) {
				wants_return = false;
				return true;
			}
			held = blocks[index].in_flight || blocks[previous].in_flight;
			wants_return = held;
		}

		pollfd fds[3] = {
			{hub->shutdown_fd.get(), POLLIN, 0},
			{returned_fd.get(), POLLIN, 0},
			{socket.fd(), static_cast<short>(held ? 0 : POLLIN), 0},
		};
		if (wait_for(fds, -1) < 0) {
			report(fail_errno(errno, "poll").error());
			return false;
		}
		if (fds[1].revents & POLLIN)
			drain_fd(returned_fd.get());
		if (fds[2].revents & POLLERR) {
			int err = socket.pending_error();
			report(fail_errno(err ? err : EIO, "capture socket").error());
			return false;
		}
	}
}

void Worker::run()
{
	unsigned index = 0;
	while (wait_ready(index)) {
		{
			std::lock_guard lock(hub->mutex);
			blocks[index].in_flight = true;
			hub->ready.push_back(&blocks[index]);
		}
		signal_fd(hub->ready_fd.get());
		index = (index + 1) % socket.block_count();
	}
}

class RingSourceImpl final : public Source {
public:
	~RingSourceImpl() override
	{
		hub_.shutdown.store(true);
		if (hub_.shutdown_fd)
			signal_fd(hub_.shutdown_fd.get());
		for (auto &w : workers_)
			if (w->thread.joinable())
				w->thread.join();
	}

	[[nodiscard]] static Result<std::unique_ptr<Source>> make(const RingConfig &config);

	std::span<const CapturePoint> capture_points() const override { return {&point_, 1}; }
	[[nodiscard]] Result<void> poll(std::chrono::milliseconds timeout, PacketConsumer &consumer) override;
	[[nodiscard]] Result<SourceStats> stats() override;

private:
	// The block being written: its socket, index and how far its frames
	// were handed out (a consumer may stop in the middle of a block).
	struct Current {
		Worker *worker = nullptr;
		unsigned index = 0;
		FrameCursor frames;
	};

	[[nodiscard]] Result<void> poll_one_socket(std::chrono::milliseconds timeout, PacketConsumer &consumer);
	[[nodiscard]] Result<void> poll_threads(std::chrono::milliseconds timeout, PacketConsumer &consumer);
	bool accept(PreparedFrame &f);
	bool deliver(PacketConsumer &consumer);
	void finish_block();

	// Enough blocks per call for throughput, few enough that the pipeline
	// checks its limits and flushes regularly.
	static constexpr int kBlocksPerPoll = 64;

	CapturePoint point_;
	CbpfProgram program_;
	HardwareTimestamping hardware_;
	FrameLayout layout_;
	UserFilter user_filter_ = UserFilter::None;
	bool hardware_stamps_ = false;
	bool threaded_ = false;
	Hub hub_;
	std::vector<std::unique_ptr<Worker>> workers_;
	Current current_;
	// Accepted frames waiting to be handed on as one batch, refilled in
	// place batch after batch (prepare_frame).
	static constexpr std::size_t kBatch = 64;
	std::array<PreparedFrame, kBatch> batch_;
	RingStats totals_;
	// Counted in the pipeline's thread only.
	std::uint64_t user_rejected_ = 0;
	std::uint64_t truncated_ = 0;
	std::uint64_t software_stamped_ = 0;
};

// Counts a prepared frame and runs the user-space filter on it (which may
// shorten it); false when it is not written (cut off by the block, or
// rejected by the filter).
bool RingSourceImpl::accept(PreparedFrame &f)
{
	if (f.truncated_by_ring)
		truncated_++;
	if (hardware_stamps_ && !f.hardware_timestamp)
		software_stamped_++;
	if (f.view.data.empty() && f.truncated_by_ring)
		return false;
	const bool filter = user_filter_ == UserFilter::All ||
			    (user_filter_ == UserFilter::RestoredTags && f.tag_restored);
	if (filter) {
		std::uint32_t keep = program_.run(f.view.data, f.view.wire_len);
		if (keep == 0) {
			user_rejected_++;
			return false;
		}
		if (keep < f.view.data.size())
			f.view.data = f.view.data.first(keep);
	}
	return true;
}

// Hands the rest of the current block to `consumer`, giving the block back
// once its last frame is written. False when the consumer asked to stop.
bool RingSourceImpl::deliver(PacketConsumer &consumer)
{
	// The frames go out in batches of up to kBatch, so the output encodes
	// them in one loop; a batch stays in the CPU's cache between being
	// prepared and being encoded (a whole block's PreparedFrames, ~190
	// bytes each, would be hundreds of KiB). A consumer that stops ends
	// the walk after the batch it stopped in (`current_` then points past
	// it: a frame is never prepared twice).
	std::size_t n = 0;
	bool more = true;
	const auto hand_over = [&] {
		more = consumer.on_packets(PacketBatch(&batch_[0].view, n, sizeof(PreparedFrame)));
		n = 0;
		return more;
	};
	const bool finished = walk_frames(current_.worker->socket.block(current_.index), current_.frames,
					  [&](std::uint8_t *frame, std::size_t room) {
						  PreparedFrame &f = batch_[n];
						  prepare_frame(frame, room, layout_, f);
						  n += accept(f);
						  return n < kBatch || hand_over();
					  });
	if (n && more)
		hand_over();
	if (finished) {
		finish_block();
		// Only now, with the block back in the kernel's hands, may the
		// output write: a write(2) of a large buffer takes 0.1-1 ms, and
		// at a few hundred thousand packets per second a block held
		// that long is room the kernel cannot fill (a full ring drops:
		// __packet_lookup_frame_in_block -> prb_freeze_queue,
		// net/packet/af_packet.c).
		if (more && !consumer.on_batch_end())
			more = false;
	}
	return more;
}

void RingSourceImpl::finish_block()
{
	// The views pointed into the block: only now may the kernel refill it.
	Worker &w = *current_.worker;
	RingSocket::give_back(w.socket.block(current_.index));
	if (threaded_) {
		bool wanted;
		{
			std::lock_guard lock(hub_.mutex);
			w.blocks[current_.index].in_flight = false;
			wanted = w.wants_return;
			w.wants_return = false;
		}
		if (wanted)
			signal_fd(w.returned_fd.get());
	}
	current_ = {};
}

[[nodiscard]] Result<void> RingSourceImpl::poll(std::chrono::milliseconds timeout, PacketConsumer &consumer)
{
	return threaded_ ? poll_threads(timeout, consumer) : poll_one_socket(timeout, consumer);
}

// One socket: no other thread. Blocks are read in ring order as the kernel
// retires them, like libpcap's pcap_read_linux_mmap_v3.
[[nodiscard]] Result<void> RingSourceImpl::poll_one_socket(std::chrono::milliseconds timeout, PacketConsumer &consumer)
{
	Worker &w = *workers_.front();
	bool waited = false;
	for (int done = 0; done < kBlocksPerPoll;) {
		if (!current_.worker) {
			if (!RingSocket::owned_by_user(w.socket.block(w.next_index))) {
				if (done > 0 || waited || stop::requested())
					return {};
				// Every block before next_index is the kernel's, so
				// POLLIN (see Worker::wait_ready) means this one retired.
				pollfd fds[2] = {{w.socket.fd(), POLLIN, 0}, {stop::fd(), POLLIN, 0}};
				if (wait_for(fds, static_cast<int>(timeout.count())) < 0)
					return fail_errno(errno, "poll");
				if (fds[0].revents & POLLERR) {
					int err = w.socket.pending_error();
					return fail_errno(err ? err : EIO, "capture socket");
				}
				waited = true;
				continue;
			}
			current_ = {&w, w.next_index, {}};
			w.next_index = (w.next_index + 1) % w.socket.block_count();
		}
		if (!deliver(consumer))
			return {};
		done++;
	}
	return {};
}

[[nodiscard]] Result<void> RingSourceImpl::poll_threads(std::chrono::milliseconds timeout, PacketConsumer &consumer)
{
	bool waited = false;
	for (int done = 0; done < kBlocksPerPoll;) {
		if (!current_.worker) {
			QueuedBlock *next = nullptr;
			{
				std::lock_guard lock(hub_.mutex);
				if (hub_.error)
					return std::unexpected(*hub_.error);
				if (!hub_.ready.empty()) {
					next = hub_.ready.front();
					hub_.ready.pop_front();
				}
			}
			if (!next) {
				if (done > 0 || waited || stop::requested())
					return {};
				pollfd fds[2] = {{hub_.ready_fd.get(), POLLIN, 0}, {stop::fd(), POLLIN, 0}};
				if (wait_for(fds, static_cast<int>(timeout.count())) < 0)
					return fail_errno(errno, "poll");
				drain_fd(hub_.ready_fd.get());
				waited = true;
				continue;
			}
			current_ = {next->worker, next->index, {}};
		}
		if (!deliver(consumer))
			return {};
		done++;
	}
	return {};
}

[[nodiscard]] Result<SourceStats> RingSourceImpl::stats()
{
	for (std::size_t n = 0; n < workers_.size(); n++) {
		auto &w = *workers_[n];
		auto s = w.socket.read_stats();
		if (!s)
			return std::unexpected(std::move(s.error()));
		w.totals.packets += s->packets;
		w.totals.drops += s->drops;
		w.totals.freezes += s->freezes;
		totals_.packets += s->packets;
		totals_.drops += s->drops;
		totals_.freezes += s->freezes;
		spdlog::debug("ring: socket {}: {} packets, {} dropped", n, w.totals.packets, w.totals.drops);
	}
	SourceStats out;
	// Packets the kernel let through only for user space to decide (tagged
	// ones, or all on cooked sockets) and that user space rejected did not
	// pass the filter.
	const auto rejected = user_rejected_;
	out.received = totals_.packets > rejected ? totals_.packets - rejected : 0;
	out.dropped_kernel = totals_.drops;
	if (totals_.freezes)
		out.extra.emplace_back("times the ring was full (raise -B)", totals_.freezes);
	if (auto t = truncated_)
		out.extra.emplace_back("packets truncated to the ring block (raise --block-size)", t);
	if (auto s = software_stamped_)
		out.extra.emplace_back("packets without a hardware time stamp", s);
	return out;
}

[[nodiscard]] Result<std::unique_ptr<Source>> RingSourceImpl::make(const RingConfig &config)
{
	if (auto r = config.validate(); !r)
		return std::unexpected(std::move(r.error()));
	auto iface = resolve_interface(config.interface);
	if (!iface)
		return std::unexpected(std::move(iface.error()));
	const bool cooked = reads_cooked(*iface);
	auto program = CbpfProgram::compile(config.expression, cooked ? kLinkLinuxSll2 : kLinkEthernet, config.snaplen);
	if (!program)
		return std::unexpected(std::move(program.error()));

	auto src = std::make_unique<RingSourceImpl>();
	src->program_ = std::move(*program);
	src->point_.name = iface->name;
	src->point_.description = "AF_PACKET TPACKET_V3 ring";
	src->point_.linktype = cooked ? kLinkLinuxSll2 : kLinkEthernet;
	src->point_.snaplen = config.snaplen;
	src->point_.filter = config.expression;
	src->layout_ = {cooked, config.snaplen};
	src->hardware_stamps_ = config.timestamp != TimestampType::Host;
	src->threaded_ = config.threads > 1;

	for (auto *fd : {&src->hub_.ready_fd, &src->hub_.shutdown_fd}) {
		auto e = make_eventfd();
		if (!e)
			return std::unexpected(std::move(e.error()));
		*fd = std::move(*e);
	}
	if (config.timestamp != TimestampType::Host) {
		auto hw = HardwareTimestamping::enable(iface->name);
		if (!hw)
			return std::unexpected(std::move(hw.error()));
		src->hardware_ = std::move(*hw);
	}

	const FilterPlan plan = plan_filter(src->program_, cooked, config.direction,
					    iface->any() || iface->arphrd == ARPHRD_LOOPBACK);
	src->user_filter_ = plan.user;
	spdlog::debug("ring: {} on '{}' ({}), {} thread(s), {} x {} KiB blocks each; filter: {}",
		      cooked ? "cooked SLL2" : "Ethernet", iface->name, iface->index, config.threads,
		      config.ring_kib / config.block_kib, config.block_kib, plan.reason);

	std::uint16_t group = 0;
	for (unsigned n = 0; n < config.threads; n++) {
		auto socket = RingSocket::open(*iface, cooked, config);
		if (!socket)
			return std::unexpected(std::move(socket.error()));
		if (config.threads > 1) {
			if (n == 0) {
				auto id = socket->create_fanout(config.fanout);
				if (!id)
					return std::unexpected(std::move(id.error()));
				group = *id;
			} else if (auto r = socket->join_fanout(group, config.fanout); !r) {
				return std::unexpected(std::move(r.error()));
			}
		}
		auto w = std::make_unique<Worker>();
		w->socket = std::move(*socket);
		if (src->threaded_) {
			auto returned = make_eventfd();
			if (!returned)
				return std::unexpected(std::move(returned.error()));
			w->returned_fd = std::move(*returned);
		}
		w->blocks.resize(w->socket.block_count());
		for (unsigned b = 0; b < w->blocks.size(); b++) {
			w->blocks[b].worker = w.get();
			w->blocks[b].index = b;
		}
		w->hub = &src->hub_;
		src->workers_.push_back(std::move(w));
	}
	// Only now, with every member in the group, does any socket see packets.
	for (auto &w : src->workers_)
		if (auto r = w->socket.attach_filter(plan.kernel, true); !r)
			return std::unexpected(std::move(r.error()));
	if (src->threaded_)
		for (auto &w : src->workers_)
			w->thread = std::thread([w = w.get()] { w->run(); });
	return std::unique_ptr<Source>(std::move(src));
}

} // namespace

[[nodiscard]] Result<CbpfProgram> compile_filter(const RingConfig &config)
{
	auto iface = resolve_interface(config.interface);
	if (!iface)
		return std::unexpected(std::move(iface.error()));
	return CbpfProgram::compile(config.expression, reads_cooked(*iface) ? kLinkLinuxSll2 : kLinkEthernet,
				    config.snaplen);
}

[[nodiscard]] Result<std::unique_ptr<Source>> RingSource::make(const RingConfig &config) { return RingSourceImpl::make(config); }

} // namespace capx::ring
