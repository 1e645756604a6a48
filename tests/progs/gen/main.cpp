// SPDX-License-Identifier: GPL-2.0-only
// capx-gen: sends a known number of UDP/IPv4 frames of one size at one rate
// on an interface, and says exactly what it sent. Tests and bench/ring use it
// as the traffic whose every frame a capture must account for.
#include <sys/prctl.h>

#include <algorithm>
#include <cstdio>
#include <limits>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/stop.hpp"
#include "gen/frame.hpp"
#include "gen/link.hpp"
#include "gen/options.hpp"
#include "gen/pacer.hpp"
#include "gen/mmsg_sender.hpp"
#include "gen/xdp_sender.hpp"

namespace capx::gen {

namespace {

struct Summary {
	std::uint64_t frames = 0;
	std::uint64_t start_ns = 0;
	std::uint64_t end_ns = 0;
	Stalls stalls;
};

std::uint64_t max_lag_ns(const Options &o)
{
	return static_cast<std::uint64_t>(o.max_lag_ms * 1e6);
}

// Sends until the count, the duration or a stop signal. The sendmmsg sender
// is paced here; the XDP sender's program holds each frame until it is due
// itself, so it gets everything at once, in runs of its batch.
template<typename Sender>
[[nodiscard]] Result<Summary> send_all(const Options &o, Sender &sender, bool paced_by_sender)
{
	const std::uint64_t count = o.count.value_or(std::numeric_limits<std::uint64_t>::max());
	const std::uint64_t duration_ns = o.duration_seconds
		? static_cast<std::uint64_t>(*o.duration_seconds * 1e9)
		: std::numeric_limits<std::uint64_t>::max();

	Summary s;
	s.start_ns = clock_ns(CLOCK_MONOTONIC);
	Pacer pacer{paced_by_sender ? 0 : o.rate_pps, s.start_ns, max_lag_ns(o)};
	// A sender with its own deadline stops sending at the duration's end
	// however many it sent by then; with a rate it gets at most a
	// duration's frames.
	std::uint64_t limit = count;
	bool sender_stops = false;
	if constexpr (requires { sender.stop_at(0); }) {
		if (paced_by_sender && o.duration_seconds) {
			sender.stop_at(s.start_ns + duration_ns);
			sender_stops = true;
			if (o.rate_pps)
				limit = std::min(limit, static_cast<std::uint64_t>(*o.duration_seconds * static_cast<double>(o.rate_pps)) + 1);
		}
	}
	while (s.frames < count && !stop::requested()) {
		const std::uint64_t now = clock_ns(CLOCK_MONOTONIC);
		if (now - s.start_ns >= duration_ns)
			break;
		pacer.restart_if_late(s.frames, now);
		const std::uint64_t due = pacer.due(now);
		if (due <= s.frames) {
			pacer.wait_for(s.frames);
			continue;
		}
		if (s.frames >= limit)
			break;
		const std::uint64_t n = std::min({due - s.frames, limit - s.frames, static_cast<std::uint64_t>(sender.batch())});
		auto sent = sender.send(s.frames, n);
		if (!sent)
			return std::unexpected(sent.error());
		s.frames += *sent;
	}
	s.end_ns = clock_ns(CLOCK_MONOTONIC);
	// Frames past the deadline were dropped, not sent: sending ended there.
	if (sender_stops)
		s.end_ns = std::min(s.end_ns, s.start_ns + duration_ns);
	if constexpr (requires { sender.stalls(); })
		s.stalls = paced_by_sender ? sender.stalls() : pacer.stalls();
	else
		s.stalls = pacer.stalls();
	return s;
}

void print_summary(const Options &o, const Summary &s)
{
	const double seconds = static_cast<double>(s.end_ns - s.start_ns) / 1e9;
	const double pps = seconds > 0 ? static_cast<double>(s.frames) / seconds : 0;
	const std::uint64_t bytes = s.frames * o.frame.size;
	const std::string vlan = o.frame.vlan_id ? fmt::format("{}", *o.frame.vlan_id) : std::string{o.json ? "null" : "none"};
	const double stall_ms = static_cast<double>(s.stalls.total_ns) / 1e6;
	const double stall_max_ms = static_cast<double>(s.stalls.max_ns) / 1e6;
	if (o.json)
		fmt::print("{{\"interface\":\"{}\",\"frames\":{},\"bytes\":{},\"size\":{},\"duration_s\":{:.6f},"
			   "\"pps\":{:.0f},\"rate\":{},\"method\":\"{}\",\"flows\":{},\"vlan\":{},\"interrupted\":{},"
			   "\"max_lag_ms\":{},\"stalls\":{},\"stall_ms\":{:.3f},\"stall_max_ms\":{:.3f}}}\n",
			   o.interface, s.frames, bytes, o.frame.size, seconds, pps, o.rate_pps, o.xdp ? "xdp" : "sendmmsg",
			   o.frame.flows, vlan, stop::requested(), o.max_lag_ms, s.stalls.count, stall_ms, stall_max_ms);
	else
		fmt::print("capx-gen: frames={} bytes={} size={} duration_s={:.6f} pps={:.0f} rate={} flows={} vlan={} "
			   "interface={} stalls={} stall_ms={:.3f} stall_max_ms={:.3f}{}\n",
			   s.frames, bytes, o.frame.size, seconds, pps, o.rate_pps, o.frame.flows, vlan, o.interface,
			   s.stalls.count, stall_ms, stall_max_ms, stop::requested() ? " interrupted" : "");
	std::fflush(stdout);
}

[[nodiscard]] Result<void> run(const Options &o)
{
	auto link = Link::find(o.interface);
	if (!link)
		return std::unexpected(link.error());
	if (o.frame.size > link->max_frame(o.frame.vlan_id.has_value()))
		return fail_usage(fmt::format("frame size {} does not fit the MTU {} of {} (largest frame {})", o.frame.size,
					      link->mtu, link->name, link->max_frame(o.frame.vlan_id.has_value())));
	auto frame = FrameTemplate::build(o.frame);
	if (!frame)
		return std::unexpected(frame.error());
	if (auto r = stop::install(); !r)
		return std::unexpected(r.error());
	// Timer slack would make every paced sleep wake up to 50 us late.
	::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	Result<Summary> summary;
	if (o.xdp) {
		auto sender = XdpSender::open(*link, *frame, o.rate_pps, max_lag_ns(o));
		if (!sender)
			return std::unexpected(sender.error());
		summary = send_all(o, *sender, true);
	} else {
		auto sender = MmsgSender::open(*link, *frame, o.batch);
		if (!sender)
			return std::unexpected(sender.error());
		summary = send_all(o, *sender, false);
	}
	if (!summary)
		return std::unexpected(summary.error());
	print_summary(o, *summary);
	return {};
}

} // namespace

} // namespace capx::gen

int main(int argc, char **argv)
{
	auto report = [](const capx::Error &e) {
		// One line, hint included, so scripts can show it as it is.
		if (e.hint.empty())
			fmt::print(stderr, "capx-gen: {}\n", e.message);
		else
			fmt::print(stderr, "capx-gen: {} (hint: {})\n", e.message, e.hint);
		return static_cast<int>(e.status);
	};
	auto options = capx::gen::parse_options(argc, argv);
	if (!options)
		return report(options.error());
	if (!*options)
		return 0; // --help
	if (auto r = capx::gen::run(**options); !r)
		return report(r.error());
	return 0;
}
