// SPDX-License-Identifier: GPL-2.0-only
#include "output/rotating_output.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "output/rotation_name.hpp"

namespace capx {

RotatingOutput::RotatingOutput(std::string path, RotationOptions rotation, bool write_through)
	: pattern_(std::move(path)), rotation_(rotation), write_through_(write_through),
	  rotates_(rotation.max_bytes || rotation.seconds)
{
	// tcpdump numbers files only with -C, padded when -W sets a ring size.
	if (rotation_.max_bytes && rotation_.file_limit)
		width_ = ring_digits(*rotation_.file_limit);
}

[[nodiscard]] Result<void> RotatingOutput::start(std::span<const std::uint8_t> header, std::uint64_t now_ns)
{
	header_.assign(header.begin(), header.end());
	if (rotation_.seconds) {
		slot_start_ = static_cast<std::time_t>(now_ns / 1'000'000'000u);
		slots_opened_ = 1;
		if (!rotation_.max_bytes && pattern_.find('%') == std::string::npos)
			spdlog::warn("-G with -w {}: no strftime(3) conversion in the name, "
				     "so each new file replaces the previous one",
				     pattern_);
	}
	return open(0);
}

[[nodiscard]] Result<void> RotatingOutput::open(std::uint32_t count)
{
	if (file_) {
		auto closed = file_->close();
		file_.reset();
		if (!closed)
			return closed;
	}
	auto name = rotation_file_name(pattern_, slot_start_, count, width_);
	if (!name)
		return std::unexpected(std::move(name.error()));
	auto file = FileOutput::create(*name);
	if (!file)
		return std::unexpected(std::move(file.error()));
	file->set_write_through(write_through_);
	count_ = count;
	file_.emplace(std::move(*file));
	return file_->append(header_);
}

[[nodiscard]] Result<void> RotatingOutput::next_time_slot(std::time_t slot_start)
{
	if (!rotation_.max_bytes && rotation_.file_limit && slots_opened_ >= *rotation_.file_limit) {
		ended_ = true;
		if (auto r = finish(); !r)
			return r;
		Error e{fmt::format("maximum file limit reached: {}", *rotation_.file_limit), {},
			ExitStatus::Runtime};
		// tcpdump says so on stderr too, then exits 0.
		spdlog::info("{}", e.message);
		// Not a failure: the capture ends in order (exit 0), as when the
		// reader of a pipe goes away.
		e.orderly_end = true;
		return std::unexpected(std::move(e));
	}
	slots_opened_++;
	slot_start_ = slot_start;
	return open(0);
}

[[nodiscard]] Result<void> RotatingOutput::next_in_ring()
{
	std::uint32_t count = count_ + 1;
	if (rotation_.file_limit && count >= *rotation_.file_limit)
		count = 0;
	return open(count);
}

[[nodiscard]] Result<std::uint8_t *> RotatingOutput::reserve_rotating(std::size_t n, std::uint64_t timestamp_ns)
{
	if (ended_ || !file_)
		return fail("output already finished");
	if (rotation_.seconds) {
		auto t = static_cast<std::time_t>(timestamp_ns / 1'000'000'000u);
		// tcpdump's test: t - Gflag_time >= Gflag. A packet stamped before
		// the slot (a late one from another CPU) stays in the current file.
		if (t >= *slot_start_ && static_cast<std::uint64_t>(t - *slot_start_) >= *rotation_.seconds) {
			if (auto r = next_time_slot(t); !r)
				return std::unexpected(std::move(r.error()));
		}
	}
	if (rotation_.max_bytes && file_->size() + n > *rotation_.max_bytes && file_->size() > header_.size()) {
		if (auto r = next_in_ring(); !r)
			return std::unexpected(std::move(r.error()));
	}
	return file_->reserve(n);
}

[[nodiscard]] Result<void> RotatingOutput::finish()
{
	if (!file_)
		return {};
	auto r = file_->close();
	file_.reset();
	return r;
}

} // namespace capx
