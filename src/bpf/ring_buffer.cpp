#include "bpf/ring_buffer.hpp"

#include <bpf/libbpf.h>
#include <poll.h>

#include <cerrno>

#include "core/stop.hpp"

namespace capx::bpf {

struct RingBuffer::State {
	struct ring_buffer *rb = nullptr;
	RecordHandler *handler = nullptr;
	std::size_t handled = 0;
	bool stopped = false;

	~State()
	{
		if (rb)
			ring_buffer__free(rb);
	}
};

namespace {

// A negative return makes libbpf stop after this record (ringbuf_process_ring
// commits the consumer position first) and return the value.
constexpr int kStopBatch = -ECANCELED;

int on_sample(void *ctx, void *data, size_t size)
{
	auto *st = static_cast<RingBuffer::State *>(ctx);
	st->handled++;
	if (!st->handler->on_record({static_cast<const std::uint8_t *>(data), size})) {
		st->stopped = true;
		return kStopBatch;
	}
	return 0;
}

} // namespace

RingBuffer::RingBuffer() : state_(std::make_unique<State>()) {}
RingBuffer::RingBuffer(RingBuffer &&) noexcept = default;
RingBuffer &RingBuffer::operator=(RingBuffer &&) noexcept = default;
RingBuffer::~RingBuffer() = default;

Result<RingBuffer> RingBuffer::open(int map_fd)
{
	RingBuffer r;
	errno = 0;
	r.state_->rb = ring_buffer__new(map_fd, on_sample, r.state_.get(), nullptr);
	if (!r.state_->rb)
		return fail_errno(errno ? errno : EINVAL, "cannot open the BPF ring buffer");
	return r;
}

int RingBuffer::epoll_fd() const
{
	return ring_buffer__epoll_fd(state_->rb);
}

Result<std::size_t> RingBuffer::consume(RecordHandler &handler)
{
	state_->handler = &handler;
	state_->handled = 0;
	state_->stopped = false;
	int n = ring_buffer__consume(state_->rb);
	state_->handler = nullptr;
	if (n < 0 && !(n == kStopBatch && state_->stopped))
		return fail_errno(-n, "cannot read the BPF ring buffer");
	return state_->handled;
}

Result<std::size_t> RingBuffer::poll(std::chrono::milliseconds timeout, RecordHandler &handler)
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
