// SPDX-License-Identifier: GPL-2.0-only
// How the sinks end a capture through run_pipeline: -G with -W and a reader
// that went away end it in order (no error, exit 0); a full disk is an
// error. The packets come from a replay source: the sinks, files, pipes and
// the pipeline are the real ones.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "capture/pipeline.hpp"
#include "output/file_sink.hpp"
#include "output/pcap_format.hpp"
#include "output_test_support.hpp"

using namespace capx;
using namespace capx::test;

namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ull;
constexpr std::uint64_t kStart = 1'700'000'000ull * kSecond;

// Hands out its packets in one poll, then has nothing more; with
// `batch_size`, it ends a batch (PacketConsumer::on_batch_end, as capx ring
// does after each ring block) every that many packets.
class ReplaySource final : public Source {
public:
	explicit ReplaySource(std::vector<SamplePacket> packets, std::size_t batch_size = 0)
		: packets_(std::move(packets)), batch_size_(batch_size)
	{
	}

	std::span<const CapturePoint> capture_points() const override { return {&point_, 1}; }

	[[nodiscard]] Result<void> poll(std::chrono::milliseconds, PacketConsumer &consumer) override
	{
		while (next_ < packets_.size()) {
			if (!consumer.on_packet(packets_[next_++].view()))
				break;
			if (batch_size_ && next_ % batch_size_ == 0 && !consumer.on_batch_end())
				break;
		}
		return {};
	}

	std::size_t handed_out() const { return next_; }

	[[nodiscard]] Result<SourceStats> stats() override
	{
		SourceStats s;
		s.received = next_;
		return s;
	}

private:
	CapturePoint point_ = ethernet_point();
	std::vector<SamplePacket> packets_;
	std::size_t next_ = 0;
	std::size_t batch_size_;
};

PipelineOptions short_run()
{
	PipelineOptions o;
	o.duration = std::chrono::milliseconds(1500); // a bound in case an end is missed
	return o;
}

} // namespace

TEST_CASE("-G with -W ends run_pipeline in order after N files", "[output][pipeline]")
{
	::setenv("TZ", "UTC", 1);
	::tzset();
	TempDir dir;
	std::vector<SamplePacket> packets;
	for (std::uint64_t s : {1, 5, 12, 25, 40, 41})
		packets.push_back(udp_series(1, 100, kStart + s * kSecond, 0)[0]);
	ReplaySource source(packets);
	FileSink sink(std::make_unique<PcapFormat>(false),
		      FileSinkOptions{dir / "g-%H%M%S.pcap", {std::nullopt, 10, 3}, false, [] { return kStart; }});
	auto summary = run_pipeline(source, sink, short_run());
	INFO((summary ? "" : summary.error().message));
	REQUIRE(summary);
	CHECK(summary->captured == 4);
	CHECK(fs::exists(dir / "g-221320.pcap"));
	CHECK(fs::exists(dir / "g-221332.pcap"));
	CHECK(fs::exists(dir / "g-221345.pcap"));
	CHECK_FALSE(fs::exists(dir / "g-221400.pcap"));
}

TEST_CASE("a reader that went away ends run_pipeline in order", "[output][pipeline]")
{
	::signal(SIGPIPE, SIG_IGN);
	int fds[2];
	REQUIRE(::pipe(fds) == 0);
	::close(fds[0]);
	// -w - into a pipe whose reader is gone.
	int saved = ::dup(STDOUT_FILENO);
	::dup2(fds[1], STDOUT_FILENO);
	::close(fds[1]);
	ReplaySource source(udp_series(10, 100, kStart, kSecond));
	FileSink sink(std::make_unique<PcapFormat>(false), FileSinkOptions{"-", {}, false, {}});
	auto summary = run_pipeline(source, sink, short_run());
	::dup2(saved, STDOUT_FILENO);
	::close(saved);
	INFO((summary ? "" : summary.error().message));
	CHECK(summary);
}

TEST_CASE("a full disk fails run_pipeline with one line", "[output][pipeline]")
{
	ReplaySource source(udp_series(10, 100, kStart, kSecond));
	FileSink sink(std::make_unique<PcapFormat>(false), FileSinkOptions{"/dev/full", {}, false, {}});
	auto summary = run_pipeline(source, sink, short_run());
	REQUIRE_FALSE(summary);
	CHECK(summary.error().message == "write /dev/full: No space left on device");
}

TEST_CASE("a write between batches that fails ends run_pipeline there", "[output][pipeline]")
{
	// 116-byte records, batches of 1000: the buffer reaches
	// FileOutput::kChunkSize (256 KiB) at the end of the third batch, whose
	// write to /dev/full fails; the source hands out nothing more.
	static_assert(3 * 1000 * 116 >= FileOutput::kChunkSize && 2 * 1000 * 116 + 24 < FileOutput::kChunkSize);
	ReplaySource source(udp_series(5000, 100, kStart, 1000), 1000);
	FileSink sink(std::make_unique<PcapFormat>(false), FileSinkOptions{"/dev/full", {}, false, {}});
	auto summary = run_pipeline(source, sink, short_run());
	REQUIRE_FALSE(summary);
	CHECK(summary.error().message == "write /dev/full: No space left on device");
	CHECK(source.handed_out() == 3000);
}
