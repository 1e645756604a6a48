// SPDX-License-Identifier: GPL-2.0-only
#include "output/tee_sink.hpp"

namespace capx {

[[nodiscard]] Result<void> TeeSink::begin(std::span<const CapturePoint> points)
{
	if (auto r = first_->begin(points); !r)
		return r;
	return second_->begin(points);
}

[[nodiscard]] Result<void> TeeSink::write(const PacketView &packet)
{
	if (auto r = first_->write(packet); !r)
		return r;
	return second_->write(packet);
}

[[nodiscard]] Result<void> TeeSink::batch_end()
{
	if (auto r = first_->batch_end(); !r)
		return r;
	return second_->batch_end();
}

[[nodiscard]] Result<void> TeeSink::flush()
{
	if (auto r = first_->flush(); !r)
		return r;
	return second_->flush();
}

[[nodiscard]] Result<void> TeeSink::finish()
{
	// Both are finished whatever happens to one, so the file is complete.
	auto a = first_->finish();
	auto b = second_->finish();
	return a ? b : a;
}

} // namespace capx
