// SPDX-License-Identifier: GPL-2.0-only
// The terminal printer: one line per packet, tcpdump -nn style, with the
// capture point it came from and the metadata the source knew.
#include "output/text_sink.hpp"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "output/decode/decode.hpp"
#include "output/packet_meta_text.hpp"

namespace capx {

namespace {

// Past this much buffered text a non-terminal output is written out even
// without a flush(): bounds memory, and keeps write() calls large.
constexpr std::size_t kFlushThreshold = 64 * 1024;

class TextSink final : public Sink {
public:
	TextSink(int fd, bool numeric)
		: fd_(fd), numeric_(numeric), line_buffered_(::isatty(fd) == 1)
	{
		line_.reserve(kFlushThreshold + 1024);
	}

	[[nodiscard]] Result<void> begin(std::span<const CapturePoint> points) override
	{
		points_.assign(points.begin(), points.end());
		return {};
	}

	[[nodiscard]] Result<void> write(const PacketView &packet) override
	{
		const CapturePoint *point =
			packet.capture_point < points_.size() ? &points_[packet.capture_point] : nullptr;
		std::uint16_t linktype = point ? point->linktype : std::uint16_t{kLinkEthernet};
		append_time(packet.timestamp_ns);
		if (point && !point->name.empty())
			fmt::format_to(std::back_inserter(line_), " {}", point->name);
		// Cooked headers carry the direction themselves and the decoder
		// prints it; saying it twice would only clutter the line.
		bool cooked = linktype == kLinkLinuxSll || linktype == kLinkLinuxSll2;
		if (!cooked && packet.meta.direction == Direction::Inbound)
			line_ += " In";
		else if (!cooked && packet.meta.direction == Direction::Outbound)
			line_ += " Out";
		line_ += ' ';
		decode_packet(line_, linktype, packet.data, packet.wire_len);
		std::string meta = describe_meta(packet.meta);
		if (!meta.empty())
			fmt::format_to(std::back_inserter(line_), " [{}]", meta);
		line_ += '\n';
		if (line_buffered_ || line_.size() >= kFlushThreshold)
			return flush();
		return {};
	}

	[[nodiscard]] Result<void> flush() override
	{
		std::size_t done = 0;
		while (done < line_.size()) {
			ssize_t n = ::write(fd_, line_.data() + done, line_.size() - done);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				int err = errno;
				line_.clear();
				return fail_errno(err, "writing decoded packets");
			}
			done += static_cast<std::size_t>(n);
		}
		line_.clear();
		return {};
	}

	[[nodiscard]] Result<void> finish() override { return flush(); }

private:
	// "HH:MM:SS.uuuuuu" in local time, like tcpdump's default. The broken-down
	// time is cached per second: localtime_r is far slower than the rest.
	void append_time(std::uint64_t ns)
	{
		time_t secs = static_cast<time_t>(ns / 1'000'000'000);
		if (secs != cached_sec_ || !have_cached_) {
			struct tm tm {};
			localtime_r(&secs, &tm);
			cached_hms_ = fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
			cached_sec_ = secs;
			have_cached_ = true;
		}
		fmt::format_to(std::back_inserter(line_), "{}.{:06}", cached_hms_, (ns % 1'000'000'000) / 1000);
	}

	int fd_;
	// capx never resolves names on the hot path (no DNS, no services file),
	// so -n changes nothing today; kept so a future resolver honours it.
	[[maybe_unused]] bool numeric_;
	bool line_buffered_;
	std::vector<CapturePoint> points_;
	std::string line_;
	time_t cached_sec_ = 0;
	bool have_cached_ = false;
	std::string cached_hms_;
};

} // namespace

std::unique_ptr<Sink> make_text_sink(int fd, bool numeric)
{
	return std::make_unique<TextSink>(fd, numeric);
}

} // namespace capx
