// SPDX-License-Identifier: GPL-2.0-only
// A capture written as a series of files, with tcpdump's -C/-G/-W rules;
// with none of them, simply one file (or standard output). Every file
// starts with the format's header and holds whole records only.
//
// -C BYTES   the next record goes to a new file when it would make the
//            current one larger than BYTES (tcpdump checks after the fact
//            and lets a file pass -C by one packet; capx keeps every file
//            within -C unless a single record is larger). Files are FILE,
//            FILE1, FILE2 ...; with -W N a ring FILE0..FILE<N-1> that
//            overwrites the oldest.
// -G SECONDS a new file, named by strftime(3) of the -w pattern, when a
//            packet is SECONDS or more past the start of the current file's
//            slot; the first slot starts when the capture does. With -W N
//            (and no -C) the capture ends in order instead of opening file
//            N+1, like tcpdump's "Maximum file limit reached".
//
// Time is the packet's capture timestamp, not the time capx writes it
// (tcpdump uses time(NULL) when the packet reaches it). The file a packet
// lands in then says when it was captured even when delivery lagged behind
// (a full ring buffer, a busy CPU, a slow disk), and tests need no clock
// games. Both are CLOCK_REALTIME, so the first slot can start at the wall
// clock when the capture starts. A packet stamped before its slot (late
// from another CPU, or a replay of an older file) stays in the current
// file: files never go back in time. Like tcpdump, the check happens when
// a packet arrives: an idle capture stays in its file.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "output/file_output.hpp"

namespace capx {

struct RotationOptions {
	std::optional<std::uint64_t> max_bytes;   // -C, in bytes
	std::optional<std::uint32_t> seconds;     // -G
	std::optional<std::uint32_t> file_limit;  // -W
};

class RotatingOutput {
public:
	// `path`: the -w name ("-" is standard output, only without rotation).
	RotatingOutput(std::string path, RotationOptions rotation, bool write_through);

	// Opens the first file (its -G slot starts at `now_ns`, wall clock) and
	// writes `header`, which every later file starts with too.
	[[nodiscard]] Result<void> start(std::span<const std::uint8_t> header, std::uint64_t now_ns);

	// Room for a record of `n` bytes captured at `timestamp_ns`, in the
	// file it belongs to (moving on to the next file first if needed).
	// When -G -W has made its last file, the error is an orderly end
	// (Error::orderly_end set, "maximum file limit reached: N").
	[[nodiscard]] Result<std::uint8_t *> reserve(std::size_t n, std::uint64_t timestamp_ns)
	{
		// Without -C/-G (the common case) every record goes to the one file.
		if (!rotates_ && file_) [[likely]]
			return file_->reserve(n);
		return reserve_rotating(n, timestamp_ns);
	}
	[[nodiscard]] Result<void> commit(std::size_t n) { return file_->commit(n); }
	// Several records at once, for one buffered file (no -C/-G, which
	// decide per record; no -U, a write per record): the room for them and
	// their commit, as in FileOutput.
	bool takes_batches() const { return !rotates_ && !write_through_ && file_; }
	std::span<std::uint8_t> room() { return file_->room(); }
	[[nodiscard]] Result<void> commit_records(std::span<const std::uint32_t> sizes) { return file_->commit_records(sizes); }
	[[nodiscard]] Result<void> flush() { return file_ ? file_->flush() : Result<void>{}; }
	[[nodiscard]] Result<void> write_chunk() { return file_ ? file_->write_chunk() : Result<void>{}; }
	[[nodiscard]] Result<void> finish();

	// The file being written ("" once finished).
	std::string current_name() const { return file_ ? file_->name() : std::string(); }

private:
	[[nodiscard]] Result<std::uint8_t *> reserve_rotating(std::size_t n, std::uint64_t timestamp_ns);
	[[nodiscard]] Result<void> open(std::uint32_t count);
	[[nodiscard]] Result<void> next_time_slot(std::time_t slot_start);
	[[nodiscard]] Result<void> next_in_ring();

	std::string pattern_;
	RotationOptions rotation_;
	bool write_through_;
	bool rotates_;               // -C or -G
	int width_ = 0;              // digits of the -C count (tcpdump's WflagChars)
	std::vector<std::uint8_t> header_;
	std::optional<FileOutput> file_;
	std::optional<std::time_t> slot_start_; // -G
	std::uint32_t slots_opened_ = 0;        // -G files so far
	std::uint32_t count_ = 0;               // -C number of the current file
	bool ended_ = false;
};

} // namespace capx
