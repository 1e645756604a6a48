// SPDX-License-Identifier: GPL-2.0-only
// One output file (or standard output, or a pipe) behind a large user-space
// buffer. Records go in whole or not at all: the buffer holds complete
// records only, and when a write fails half-way (ENOSPC, EIO) a regular
// file is cut back to the end of its last complete record, so it stays
// readable to the end.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/unique_fd.hpp"

namespace capx {

class FileOutput {
public:
	// Creates (truncates) `path`, mode 0644; "-" is standard output.
	// Errors read "open PATH: REASON".
	[[nodiscard]] static Result<FileOutput> create(const std::string &path);
	// Writes to an fd the caller made (the pipe into tcpdump); `name` is
	// what messages call it.
	[[nodiscard]] static Result<FileOutput> adopt(UniqueFd fd, std::string name);

	FileOutput(FileOutput &&) noexcept = default;
	FileOutput &operator=(FileOutput &&) noexcept = default;
	~FileOutput();

	// -U: every committed record is written at once, not buffered.
	void set_write_through(bool on) { write_through_ = on; }

	// Room for one record of `n` bytes at the end of the buffer (flushing
	// first if it does not fit). Fill it, then commit(n). Both run once per
	// packet, hence the common case inline here.
	[[nodiscard]] Result<std::uint8_t *> reserve(std::size_t n)
	{
		if (used_ + n <= capacity_ && !failure_) [[likely]]
			return buffer_.get() + used_;
		return reserve_after_flush(n);
	}
	[[nodiscard]] Result<void> commit(std::size_t n)
	{
		const bool first = used_ == 0;
		used_ += n;
		if (regular_)
			record_ends_.push_back(static_cast<std::uint32_t>(used_));
		if (write_through_ || stale(first)) [[unlikely]]
			return write_buffer();
		return {};
	}
	// The free room at the end of the buffer, to write several records
	// into and commit_records() them (empty after a failed write).
	std::span<std::uint8_t> room()
	{
		if (failure_) [[unlikely]]
			return {};
		return {buffer_.get() + used_, capacity_ - used_};
	}
	// commit() of records of these sizes, written one after the other from
	// the start of room(), with the ~1 s delay checked once for all.
	[[nodiscard]] Result<void> commit_records(std::span<const std::uint32_t> sizes)
	{
		const bool first = used_ == 0;
		std::size_t end = used_;
		if (regular_) {
			const std::size_t at = record_ends_.size();
			record_ends_.resize(at + sizes.size());
			std::uint32_t *ends = record_ends_.data() + at;
			for (std::size_t i = 0; i < sizes.size(); i++)
				ends[i] = static_cast<std::uint32_t>(end += sizes[i]);
		} else {
			for (std::uint32_t s : sizes)
				end += s;
		}
		used_ = end;
		if (write_through_ || stale(first)) [[unlikely]]
			return write_buffer();
		return {};
	}
	// reserve + copy + commit, for file headers.
	[[nodiscard]] Result<void> append(std::span<const std::uint8_t> bytes);

	// Writes out everything buffered, in as few write(2)s as it takes.
	[[nodiscard]] Result<void> flush();
	// Writes out the buffer once it holds kChunkSize or more; called where
	// a write holds up no capture (Sink::batch_end).
	[[nodiscard]] Result<void> write_chunk()
	{
		if (used_ < kChunkSize || failure_)
			return {};
		return write_buffer();
	}
	// Flushes and closes (standard output is flushed, not closed). After a
	// failed write there is nothing left to write: it only closes.
	[[nodiscard]] Result<void> close();

	// Bytes committed to this file: written plus buffered.
	std::uint64_t size() const { return written_ + used_; }
	const std::string &name() const { return name_; }

	static constexpr std::size_t kBufferSize = 1 << 20;
	// What write_chunk() waits for. Small enough that the part of the
	// buffer in use stays in the CPU's cache between writes and that a
	// write is short, large enough that write(2) calls are few.
	static constexpr std::size_t kChunkSize = 256 << 10;
	// Buffered records never wait longer than this for the next record to
	// push them out: a steady trickle of packets (too steady for the
	// pipeline's idle flush, too thin to fill the buffer) still reaches
	// `tcpdump -r -` or the disk promptly.
	static constexpr std::int64_t kMaxDelayMs = 1000;

private:
	FileOutput() = default;
	void init(int fd, std::string name);
	[[nodiscard]] Result<std::uint8_t *> reserve_after_flush(std::size_t n);
	// The first record of a buffer starts its delay; true for a later one
	// once the first has waited kMaxDelayMs. The coarse clock is read from
	// the vDSO (no system call) in a few ns; its few-ms resolution is
	// plenty for a one-second bound.
	bool stale(bool first)
	{
		struct timespec ts;
		::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		const std::int64_t now = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
		if (first) {
			deadline_ns_ = now + kMaxDelayMs * 1'000'000;
			return false;
		}
		return now >= deadline_ns_;
	}
	[[nodiscard]] Result<void> write_buffer();
	std::unexpected<Error> failed_after(std::size_t done, int err);

	UniqueFd owned_;
	int fd_ = -1;
	std::string name_;
	bool regular_ = false;  // a regular file can be cut back after a failure
	off_t base_offset_ = 0; // where this output started in the file
	bool write_through_ = false;

	std::unique_ptr<std::uint8_t[]> buffer_;
	std::size_t capacity_ = 0;
	std::size_t used_ = 0;
	// Where each committed record ends in the buffer, to cut a regular
	// file back to a record boundary when a write stops half-way.
	std::vector<std::uint32_t> record_ends_;
	std::uint64_t written_ = 0; // bytes in the file, all complete records
	std::int64_t deadline_ns_ = 0; // when the oldest buffered record has waited long enough
	std::optional<Error> failure_;
};

} // namespace capx
