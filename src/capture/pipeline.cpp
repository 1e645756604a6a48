// SPDX-License-Identifier: GPL-2.0-only
#include "capture/pipeline.hpp"

#include <unistd.h>

#include <cstdio>
#include <limits>

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/stop.hpp"

namespace capx {

namespace {

using Clock = std::chrono::steady_clock;

class LimitedWriter final : public PacketConsumer {
public:
	LimitedWriter(Sink &sink, std::optional<std::uint64_t> count)
		: sink_(sink), limit_(count.value_or(std::numeric_limits<std::uint64_t>::max()))
	{
	}

	// Once per packet: one comparison for both limits (an error lowers
	// the limit to what was written).
	bool on_packet(const PacketView &packet) override
	{
		if (captured_ >= limit_) [[unlikely]]
			return false;
		auto r = sink_.write(packet);
		if (!r) [[unlikely]] {
			error_ = std::move(r.error());
			limit_ = captured_;
			return false;
		}
		return ++captured_ < limit_;
	}

	// A whole batch: -c by arithmetic, one call into the sink.
	bool on_packets(PacketBatch batch) override
	{
		if (captured_ >= limit_) [[unlikely]]
			return false;
		const std::uint64_t left = limit_ - captured_;
		std::size_t written = 0;
		auto r = sink_.write_batch(batch.size() < left ? batch : batch.first(static_cast<std::size_t>(left)),
					   written);
		captured_ += written;
		if (!r) [[unlikely]] {
			error_ = std::move(r.error());
			limit_ = captured_;
			return false;
		}
		return captured_ < limit_;
	}

	bool on_batch_end() override
	{
		auto r = sink_.batch_end();
		if (!r) [[unlikely]] {
			error_ = std::move(r.error());
			limit_ = captured_;
			return false;
		}
		return true;
	}

	bool done() const { return captured_ >= limit_; }
	std::uint64_t captured() const { return captured_; }
	std::optional<Error> &error() { return error_; }

private:
	Sink &sink_;
	std::uint64_t limit_;
	std::uint64_t captured_ = 0;
	std::optional<Error> error_;
};

class StatusLine {
public:
	explicit StatusLine(bool enabled) : enabled_(enabled), last_(Clock::now()) {}

	void maybe_print(std::uint64_t captured, Source &source)
	{
		if (!enabled_)
			return;
		auto now = Clock::now();
		auto elapsed = std::chrono::duration<double>(now - last_).count();
		if (elapsed < 1.0)
			return;
		auto stats = source.stats();
		std::uint64_t dropped = stats ? stats->dropped_kernel : 0;
		double rate = static_cast<double>(captured - last_captured_) / elapsed;
		std::string text = erase();
		text += fmt::format("{} packets captured, {:.0f} pkt/s, {} dropped", captured, rate, dropped);
		// Lines per capture point (capx skb's probes) go below it.
		extra_lines_ = 0;
		if (stats) {
			for (const auto &line : stats->lines) {
				text += "\n\033[K" + line;
				extra_lines_++;
			}
		}
		fmt::print(stderr, "{}", text);
		std::fflush(stderr);
		printed_ = true;
		last_ = now;
		last_captured_ = captured;
	}

	void end()
	{
		if (printed_)
			fmt::print(stderr, "{}", erase());
	}

private:
	// Back to the start of what was printed last, erasing it line by line.
	std::string erase() const
	{
		std::string s = "\r\033[K";
		for (std::size_t i = 0; i < extra_lines_; i++)
			s += "\033[A\033[K";
		return s;
	}

	bool enabled_;
	bool printed_ = false;
	std::size_t extra_lines_ = 0;
	Clock::time_point last_;
	std::uint64_t last_captured_ = 0;
};

constexpr std::chrono::milliseconds kPollInterval{200};

} // namespace

[[nodiscard]] Result<PipelineSummary> run_pipeline(Source &source, Sink &sink, const PipelineOptions &options)
{
	if (auto r = sink.begin(source.capture_points()); !r) {
		if (r.error().orderly_end)
			return PipelineSummary{};
		return std::unexpected(std::move(r.error()));
	}

	LimitedWriter writer(sink, options.count);
	StatusLine status(options.live_status);
	const auto start = Clock::now();
	std::optional<Error> failure;

	while (!stop::requested() && !writer.done()) {
		auto timeout = kPollInterval;
		if (options.duration) {
			auto left = *options.duration - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
			if (left <= std::chrono::milliseconds::zero())
				break;
			timeout = std::min(timeout, left);
		}
		std::uint64_t before = writer.captured();
		if (auto r = source.poll(timeout, writer); !r) {
			failure = std::move(r.error());
			break;
		}
		if (writer.error())
			break;
		// Flush on -U after every batch, otherwise whenever the source is
		// idle: no per-packet syscalls under load, low latency when quiet.
		if (options.unbuffered || writer.captured() == before) {
			if (auto r = sink.flush(); !r) {
				writer.error() = std::move(r.error());
				break;
			}
		}
		// Before the status line: a source that ran out may say why
		// (capx mbuf: "process N exited") once the line is gone.
		if (source.exhausted())
			break;
		status.maybe_print(writer.captured(), source);
	}
	status.end();

	if (writer.error() && !failure)
		failure = std::move(*writer.error());

	auto finished = sink.finish();
	if (!finished && !failure)
		failure = std::move(finished.error());

	// A reader that went away (`capx ... | head`), or a sink that is done
	// (-G with -W made its last file), ends the capture in order.
	if (failure && !failure->orderly_end)
		return std::unexpected(std::move(*failure));
	if (failure)
		spdlog::debug("{}: stopping", failure->message);

	PipelineSummary summary;
	summary.captured = writer.captured();
	summary.stop_signal = stop::signal_number();
	if (auto s = source.stats())
		summary.source = std::move(*s);
	else
		spdlog::warn("{}", s.error().message);
	return summary;
}

void print_summary(const PipelineSummary &s)
{
	auto plural = [](std::uint64_t n) { return n == 1 ? "packet" : "packets"; };
	fmt::print(stderr, "{} {} captured\n", s.captured, plural(s.captured));
	fmt::print(stderr, "{} {} received by filter\n", s.source.received, plural(s.source.received));
	fmt::print(stderr, "{} {} dropped by kernel\n", s.source.dropped_kernel, plural(s.source.dropped_kernel));
	for (const auto &[name, value] : s.source.extra)
		fmt::print(stderr, "{} {}\n", value, name);
	for (const auto &line : s.source.lines)
		fmt::print(stderr, "{}\n", line);
}

} // namespace capx
