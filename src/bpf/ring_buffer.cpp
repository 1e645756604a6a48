// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/ring_buffer.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "core/mapped_memory.hpp"
#include "core/stop.hpp"
#include "core/unique_fd.hpp"

namespace capx::bpf {

// The ring is read here rather than with libbpf's ring_buffer__consume():
// libbpf (ringbuf_process_ring() in src/ringbuf.c, 1.1 to 1.5) stores the
// consumer position after every record, and the producer reads that
// position on every bpf_ringbuf_reserve()/output() (__bpf_ringbuf_reserve()
// in kernel/bpf/ringbuf.c) on the CPU that is receiving the packets: one
// cache line bouncing between the two CPUs per record. Here it is stored
// once per kCommitFraction of the ring and whenever the reader catches up.
// The layout and the header bits are the kernel's ABI (include/uapi/linux/
// bpf.h: BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ;
// the mmap layout in ringbuf_map_mmap_kern(): one writable consumer page,
// then the producer page and the data pages, mapped twice in a row so that a
// record that wraps reads as one piece).
struct RingBuffer::State {
	MappedMemory consumer;  // one page: consumer_pos
	MappedMemory producer;  // producer_pos page, then 2 x data
	const std::uint8_t *data = nullptr;
	std::uint64_t mask = 0;
	std::uint64_t commit_bytes = 0;
	UniqueFd epoll;
};

namespace {

// The reader publishes its position at least every this part of the ring:
// the producer sees free room late by at most that much. Well below the
// wakeup threshold the BPF side uses (a fraction of 8 in src/capture/skb/
// probe_set.cpp and src/capture/mbuf/uprobe_set.cpp), which counts
// unpublished bytes as unread.
constexpr std::uint64_t kCommitFraction = 64;
// Bytes ahead of the record being read that are prefetched: a few records
// of small packets (a record is 8 + 88 + the packet's bytes).
constexpr std::size_t kPrefetchAhead = 512;

std::uint64_t *consumer_pos(RingBuffer::State &s)
{
	return reinterpret_cast<std::uint64_t *>(s.consumer.data());
}

const std::uint64_t *consumer_pos(const RingBuffer::State &s)
{
	return reinterpret_cast<const std::uint64_t *>(s.consumer.data());
}

const std::uint64_t *producer_pos(const RingBuffer::State &s)
{
	return reinterpret_cast<const std::uint64_t *>(s.producer.data());
}

} // namespace

RingBuffer::RingBuffer() : state_(std::make_unique<State>()) {}
RingBuffer::RingBuffer(RingBuffer &&) noexcept = default;
RingBuffer &RingBuffer::operator=(RingBuffer &&) noexcept = default;
RingBuffer::~RingBuffer() = default;

[[nodiscard]] Result<RingBuffer> RingBuffer::open(int map_fd)
{
	struct bpf_map_info info {};
	__u32 info_len = sizeof(info);
	if (bpf_obj_get_info_by_fd(map_fd, &info, &info_len) != 0)
		return fail_errno(errno, "cannot open the BPF ring buffer: map info");
	if (info.type != BPF_MAP_TYPE_RINGBUF || info.max_entries == 0 ||
	    (info.max_entries & (info.max_entries - 1)) != 0)
		return fail_errno(EINVAL, "cannot open the BPF ring buffer: not a ring buffer map");
	const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

	RingBuffer r;
	State &s = *r.state_;
	auto consumer = MappedMemory::map(map_fd, page, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	if (!consumer)
		return std::unexpected(std::move(consumer.error()));
	auto producer = MappedMemory::map(map_fd, page + 2 * static_cast<std::size_t>(info.max_entries), PROT_READ,
					  MAP_SHARED, static_cast<off_t>(page));
	if (!producer)
		return std::unexpected(std::move(producer.error()));
	s.consumer = std::move(*consumer);
	s.producer = std::move(*producer);
	s.data = s.producer.data() + page;
	s.mask = info.max_entries - 1;
	s.commit_bytes = info.max_entries / kCommitFraction;

	s.epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
	if (!s.epoll)
		return fail_errno(errno, "cannot open the BPF ring buffer: epoll_create1");
	struct epoll_event ev {};
	ev.events = EPOLLIN;
	if (::epoll_ctl(s.epoll.get(), EPOLL_CTL_ADD, map_fd, &ev) != 0)
		return fail_errno(errno, "cannot open the BPF ring buffer: epoll_ctl");
	return r;
}

int RingBuffer::epoll_fd() const
{
	return state_->epoll.get();
}

[[nodiscard]] Result<std::size_t> RingBuffer::consume(RecordHandler &handler)
{
	State &s = *state_;
	std::uint64_t *cons_ptr = consumer_pos(s);
	const std::uint64_t *prod_ptr = producer_pos(s);
	std::uint64_t cons = __atomic_load_n(cons_ptr, __ATOMIC_ACQUIRE);
	std::uint64_t committed = cons;
	std::size_t handled = 0;
	// False when the handler asked to stop while releasing, or a stop was
	// requested: this loop reads until it finds the ring empty, and a BPF
	// side that writes faster than the reader (capturing everything at
	// several Mpps, the ring full and dropping) would otherwise keep one
	// call going for as long as the traffic lasts after SIGINT.
	auto commit = [&] {
		if (cons == committed)
			return true;
		const bool more = handler.on_release();
		__atomic_store_n(cons_ptr, cons, __ATOMIC_RELEASE);
		committed = cons;
		return more && !stop::requested();
	};
	for (;;) {
		std::uint64_t prod = __atomic_load_n(prod_ptr, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		while (cons < prod) {
			const std::uint8_t *hdr = s.data + (cons & s.mask);
			// The lines a few records ahead, written by another CPU:
			// their transfer overlaps this record's handling. The
			// data is mapped twice, so the address past the end is
			// the ring's start (and a prefetch never faults).
			__builtin_prefetch(hdr + kPrefetchAhead);
			__builtin_prefetch(hdr + kPrefetchAhead + 64);
			__builtin_prefetch(hdr + kPrefetchAhead + 128);
			std::uint32_t len = __atomic_load_n(reinterpret_cast<const std::uint32_t *>(hdr), __ATOMIC_ACQUIRE);
			// Reserved, not committed yet: the records behind it wait too.
			if (len & BPF_RINGBUF_BUSY_BIT) {
				commit();
				return handled;
			}
			std::uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			cons += (static_cast<std::uint64_t>(size) + BPF_RINGBUF_HDR_SZ + 7) & ~std::uint64_t{7};
			if ((len & BPF_RINGBUF_DISCARD_BIT) == 0) {
				handled++;
				if (!handler.on_record({hdr + BPF_RINGBUF_HDR_SZ, size})) {
					commit();
					return handled;
				}
			}
			if (cons - committed >= s.commit_bytes && !commit())
				return handled;
		}
	}
	commit();
	return handled;
}

std::size_t RingBuffer::available() const
{
	const State &s = *state_;
	std::uint64_t prod = __atomic_load_n(producer_pos(s), __ATOMIC_ACQUIRE);
	std::uint64_t cons = __atomic_load_n(consumer_pos(s), __ATOMIC_ACQUIRE);
	return prod > cons ? static_cast<std::size_t>(prod - cons) : 0;
}

std::size_t RingBuffer::size() const
{
	return static_cast<std::size_t>(state_->mask + 1);
}

[[nodiscard]] Result<std::size_t> RingBuffer::poll(std::chrono::milliseconds timeout, RecordHandler &handler)
{
	struct pollfd fds[2] = {
		{epoll_fd(), POLLIN, 0},
		{stop::fd(), POLLIN, 0},
	};
	int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return fail_errno(errno, "poll on the BPF ring buffer");
	}
	if (n == 0 || (fds[0].revents & POLLIN) == 0)
		return 0;
	return consume(handler);
}

} // namespace capx::bpf
