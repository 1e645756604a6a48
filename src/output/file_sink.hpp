// SPDX-License-Identifier: GPL-2.0-only
// pcap or pcapng into a file or standard output, optionally rotated
// (-C/-G/-W): a RecordFormat writing into a RotatingOutput.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "output/record_format.hpp"
#include "output/rotating_output.hpp"
#include "output/sink.hpp"

namespace capx {

struct FileSinkOptions {
	std::string path;            // -w; "-" is standard output
	RotationOptions rotation;
	bool write_through = false;  // -U
	// Wall clock in ns, read once at begin() to start the first -G slot.
	std::function<std::uint64_t()> now_ns;
};

class FileSink final : public Sink {
public:
	FileSink(std::unique_ptr<RecordFormat> format, FileSinkOptions options);

	[[nodiscard]] Result<void> begin(std::span<const CapturePoint> points) override;
	[[nodiscard]] Result<void> write(const PacketView &packet) override;
	[[nodiscard]] Result<void> write_batch(PacketBatch batch, std::size_t &written) override;
	[[nodiscard]] Result<void> flush() override;
	[[nodiscard]] Result<void> batch_end() override;
	[[nodiscard]] Result<void> finish() override;

private:
	std::unique_ptr<RecordFormat> format_;
	std::function<std::uint64_t()> now_ns_;
	RotatingOutput output_;
	std::vector<std::uint32_t> sizes_; // of the records encode_batch wrote
};

} // namespace capx
