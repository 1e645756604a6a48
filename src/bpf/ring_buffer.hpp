// SPDX-License-Identifier: GPL-2.0-only
// Reading a BPF ring buffer map (BPF_MAP_TYPE_RINGBUF) record by record
// through its mmap()ed pages, under a move-only owner (why not libbpf's
// ring_buffer__consume(): src/bpf/ring_buffer.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/error.hpp"

namespace capx::bpf {

class RecordHandler {
public:
	virtual ~RecordHandler() = default;
	// One record, valid only during the call. Returns false to stop the
	// batch (e.g. the count limit was reached); the record counts as read.
	virtual bool on_record(std::span<const std::uint8_t> record) = 0;
	// The records handed over so far are about to go back to the BPF side
	// (the consumer position is stored next, and their bytes may then be
	// overwritten): a handler that kept views of them must be done with
	// them when this returns. Returns false to stop, like on_record.
	virtual bool on_release() { return true; }
};

class RingBuffer {
public:
	[[nodiscard]] static Result<RingBuffer> open(int map_fd);

	RingBuffer(RingBuffer &&) noexcept;
	RingBuffer &operator=(RingBuffer &&) noexcept;
	~RingBuffer();

	// Readable when records are waiting; a Source that waits on more than
	// the ring can add it to its own poll set.
	int epoll_fd() const;

	// Waits up to `timeout` for records, or until stop::fd() is readable,
	// then hands every waiting record to `handler`. Returns how many were
	// handled (0 on timeout or stop).
	[[nodiscard]] Result<std::size_t> poll(std::chrono::milliseconds timeout, RecordHandler &handler);

	// Hands every waiting record to `handler` without waiting; after a
	// stop::request() it returns at the next release (every ring/64 bytes),
	// whatever is still waiting.
	[[nodiscard]] Result<std::size_t> consume(RecordHandler &handler);

	// Bytes written by the BPF side and not read yet (record headers
	// included), and the ring's data size.
	std::size_t available() const;
	std::size_t size() const;

	struct State; // opaque

private:
	RingBuffer();
	std::unique_ptr<State> state_;
};

} // namespace capx::bpf
