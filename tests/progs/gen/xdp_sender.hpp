// SPDX-License-Identifier: GPL-2.0-only
// Hands frames to the kernel with BPF_PROG_TEST_RUN in live-frames mode
// (xdp_sender.bpf.c): the kernel builds, stamps, paces and transmits them,
// which offers several times sendmmsg's rate through a veth on one CPU (at
// 64 bytes with a capture attached, about 2.4 Mpps against 1.0-1.4 Mpps
// here; bench/README.md). The price: only a veth whose peer is in the same
// network namespace (the peer must run NAPI; an XDP_PASS program attached
// to it for the sender's lifetime does that), and no frame can be sent in
// less than one whole run of the kernel's loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bpf/link.hpp"
#include "bpf/skeleton.hpp"
#include "core/error.hpp"
#include "gen/frame.hpp"
#include "gen/link.hpp"
#include "gen/pacer.hpp"
#include "xdp_sender.skel.h"

namespace capx::gen {

class XdpSender {
public:
	// `rate_pps` 0 is unpaced; otherwise frame n leaves at start + n / rate,
	// start being the first frame's time, restarted at a frame that is
	// more than max_lag_ns late (a stall; see Pacer).
	[[nodiscard]] static Result<XdpSender> open(const Link &link, const FrameTemplate &frame, std::uint64_t rate_pps,
				      std::uint64_t max_lag_ns);

	// Most frames per send(): a run costs milliseconds to set up, so runs
	// are long; with a rate, as long as the caller's count or duration (a
	// stop signal ends a run; stop_at() ends one at the duration).
	std::size_t batch() const { return batch_; }
	// Frames due (with a rate) or reached (unpaced) at or after deadline_ns
	// (CLOCK_MONOTONIC) are not sent.
	void stop_at(std::uint64_t deadline_ns);
	// Sends frames number first_seq .. first_seq + n - 1, each when it is
	// due, and returns how many went out (fewer when a signal ended the
	// run).
	[[nodiscard]] Result<std::size_t> send(std::uint64_t first_seq, std::size_t n);
	// The program's stall counters so far.
	Stalls stalls() const;

private:
	XdpSender() = default;

	bpf::Skeleton<xdp_sender> skel_;
	bpf::Link peer_pass_;
	std::vector<std::uint8_t> frame_;
	std::size_t batch_ = 0;
};

} // namespace capx::gen
