// SPDX-License-Identifier: GPL-2.0-only
#include "output/file_sink.hpp"

#include <time.h>

#include "core/clock.hpp"

namespace capx {

FileSink::FileSink(std::unique_ptr<RecordFormat> format, FileSinkOptions options)
	: format_(std::move(format)),
	  now_ns_(options.now_ns ? std::move(options.now_ns) : [] { return clock_ns(CLOCK_REALTIME); }),
	  output_(std::move(options.path), options.rotation, options.write_through)
{
}

[[nodiscard]] Result<void> FileSink::begin(std::span<const CapturePoint> points)
{
	if (auto r = format_->configure(points); !r)
		return r;
	return output_.start(format_->file_header(), now_ns_());
}

[[nodiscard]] Result<void> FileSink::write(const PacketView &packet)
{
	auto size = format_->measure(packet);
	if (!size)
		return std::unexpected(std::move(size.error()));
	auto room = output_.reserve(*size, packet.timestamp_ns);
	if (!room)
		return std::unexpected(std::move(room.error()));
	format_->encode(packet, *room);
	return output_.commit(*size);
}

// One file, buffered: the format encodes as many records as fit straight
// into the buffer's free room, committed together (one buffer check and one
// clock read per batch instead of per record). Rotation (-C/-G decide per
// record) and -U (a write per record) take the record-by-record path, as
// does a record that does not fit (write() flushes first).
[[nodiscard]] Result<void> FileSink::write_batch(PacketBatch batch, std::size_t &written)
{
	if (!output_.takes_batches())
		return Sink::write_batch(batch, written);
	if (sizes_.size() < batch.size())
		sizes_.resize(batch.size());
	written = 0;
	while (written < batch.size()) {
		auto room = output_.room();
		auto n = format_->encode_batch(batch.from(written), room.data(), room.size(), sizes_.data());
		if (!n)
			return std::unexpected(std::move(n.error()));
		if (*n == 0) {
			if (auto r = write(batch[written]); !r)
				return r;
			written++;
			continue;
		}
		if (auto r = output_.commit_records({sizes_.data(), *n}); !r)
			return r;
		written += *n;
	}
	return {};
}

[[nodiscard]] Result<void> FileSink::flush()
{
	return output_.flush();
}

[[nodiscard]] Result<void> FileSink::batch_end()
{
	return output_.write_chunk();
}

[[nodiscard]] Result<void> FileSink::finish()
{
	return output_.finish();
}

} // namespace capx
