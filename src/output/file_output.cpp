// SPDX-License-Identifier: GPL-2.0-only
#include "output/file_output.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/log.hpp"

namespace capx {

[[nodiscard]] Result<FileOutput> FileOutput::create(const std::string &path)
{
	FileOutput out;
	if (path == "-") {
		out.init(STDOUT_FILENO, "standard output");
		return out;
	}
	int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail_errno(errno, fmt::format("open {}", path));
	out.owned_.reset(fd);
	out.init(fd, path);
	return out;
}

[[nodiscard]] Result<FileOutput> FileOutput::adopt(UniqueFd fd, std::string name)
{
	if (!fd)
		return fail(fmt::format("{}: not an open file descriptor", name));
	FileOutput out;
	int raw = fd.get();
	out.owned_ = std::move(fd);
	out.init(raw, std::move(name));
	return out;
}

void FileOutput::init(int fd, std::string name)
{
	fd_ = fd;
	name_ = std::move(name);
	struct stat st;
	regular_ = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (regular_) {
		// Standard output redirected to a file may not start at 0 (>>).
		off_t pos = ::lseek(fd, 0, SEEK_CUR);
		base_offset_ = pos < 0 ? 0 : pos;
	}
	capacity_ = kBufferSize;
	buffer_ = std::make_unique_for_overwrite<std::uint8_t[]>(capacity_);
	record_ends_.reserve(4096);
}

FileOutput::~FileOutput()
{
	// Owners call close() to see errors; this only keeps the rule that
	// buffered records are not silently dropped when one forgets.
	if (buffer_ && fd_ >= 0 && !failure_ && used_ > 0)
		(void)write_buffer();
}

[[nodiscard]] Result<std::uint8_t *> FileOutput::reserve_after_flush(std::size_t n)
{
	if (failure_)
		return std::unexpected(*failure_);
	if (used_ + n > capacity_) {
		if (auto r = write_buffer(); !r)
			return std::unexpected(std::move(r.error()));
		if (n > capacity_) {
			// A record larger than the whole buffer (a snaplen of
			// megabytes): grow once, it is rare.
			capacity_ = n;
			buffer_ = std::make_unique_for_overwrite<std::uint8_t[]>(capacity_);
		}
	}
	return buffer_.get() + used_;
}

[[nodiscard]] Result<void> FileOutput::append(std::span<const std::uint8_t> bytes)
{
	auto room = reserve(bytes.size());
	if (!room)
		return std::unexpected(std::move(room.error()));
	if (!bytes.empty())
		std::memcpy(*room, bytes.data(), bytes.size());
	return commit(bytes.size());
}

[[nodiscard]] Result<void> FileOutput::flush()
{
	if (failure_)
		return std::unexpected(*failure_);
	return write_buffer();
}

[[nodiscard]] Result<void> FileOutput::write_buffer()
{
	std::size_t done = 0;
	while (done < used_) {
		ssize_t n = ::write(fd_, buffer_.get() + done, used_ - done);
		if (n > 0) {
			done += static_cast<std::size_t>(n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue; // a record must not be left half-written by a signal
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			// Standard output inherited in non-blocking mode: wait.
			struct pollfd pfd = {fd_, POLLOUT, 0};
			::poll(&pfd, 1, -1);
			continue;
		}
		return failed_after(done, n < 0 ? errno : EIO);
	}
	written_ += used_;
	used_ = 0;
	record_ends_.clear();
	return {};
}

std::unexpected<Error> FileOutput::failed_after(std::size_t done, int err)
{
	// Keep what was written up to the last record boundary; cut the rest
	// (a pipe cannot be cut, but its reader is gone or sees an error too).
	auto end = std::upper_bound(record_ends_.begin(), record_ends_.end(), done);
	std::size_t kept = end == record_ends_.begin() ? 0 : *(end - 1);
	if (regular_ && kept < done) {
		off_t length = base_offset_ + static_cast<off_t>(written_ + kept);
		if (::ftruncate(fd_, length) != 0 || ::lseek(fd_, length, SEEK_SET) < 0)
			spdlog::warn("cannot cut {} back to its last complete record: {}", name_,
				     std::strerror(errno));
	}
	written_ += regular_ ? kept : done;
	used_ = 0;
	record_ends_.clear();
	auto e = fail_errno(err, fmt::format("write {}", name_));
	failure_ = e.error();
	return e;
}

[[nodiscard]] Result<void> FileOutput::close()
{
	if (fd_ < 0)
		return {};
	Result<void> result;
	if (!failure_)
		result = write_buffer();
	fd_ = -1;
	if (owned_) {
		int fd = owned_.release();
		// close(2) can report a delayed write error (NFS, quota).
		if (::close(fd) != 0 && result && !failure_)
			result = fail_errno(errno, fmt::format("close {}", name_));
	}
	return result;
}

} // namespace capx
