// SPDX-License-Identifier: GPL-2.0-only
// Two sinks fed the same packets: `-w FILE --print` writes the file and
// prints decoded lines, as tcpdump's --print does.
#pragma once

#include <memory>

#include "output/sink.hpp"

namespace capx {

class TeeSink final : public Sink {
public:
	TeeSink(std::unique_ptr<Sink> first, std::unique_ptr<Sink> second)
		: first_(std::move(first)), second_(std::move(second)) {}

	[[nodiscard]] Result<void> begin(std::span<const CapturePoint> points) override;
	[[nodiscard]] Result<void> write(const PacketView &packet) override;
	[[nodiscard]] Result<void> flush() override;
	[[nodiscard]] Result<void> batch_end() override;
	[[nodiscard]] Result<void> finish() override;

private:
	std::unique_ptr<Sink> first_;
	std::unique_ptr<Sink> second_;
};

} // namespace capx
