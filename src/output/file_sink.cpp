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

Result<void> FileSink::begin(std::span<const CapturePoint> points)
{
	if (auto r = format_->configure(points); !r)
		return r;
	return output_.start(format_->file_header(), now_ns_());
}

Result<void> FileSink::write(const PacketView &packet)
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

Result<void> FileSink::flush()
{
	return output_.flush();
}

Result<void> FileSink::batch_end()
{
	return output_.write_chunk();
}

Result<void> FileSink::finish()
{
	return output_.finish();
}

} // namespace capx
