// SPDX-License-Identifier: GPL-2.0-only
#include "gen/xdp_sender.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>


namespace capx::gen {

namespace {

// Runs are long: every run boundary leaves the wire idle for 10-30 ms here
// (measured with a rate: 19 stalls of ~20 ms in 2 s with runs of 0.1 s,
// 1-3 with one run). With a rate, a run is as long as the count or the
// duration (BPF_PROG_TEST_RUN's repeat is an int); unpaced, 2M frames,
// about a second (with -d the program drops what is left of the last run
// after the deadline, which costs a fraction of sending it).
constexpr std::size_t paced_run_max = std::size_t{1} << 30;
constexpr std::size_t unpaced_run = std::size_t{1} << 21;

// /sys/class/net/NAME/iflink: for a veth, the peer's ifindex.
unsigned iflink_of(const std::string &name)
{
	std::ifstream in("/sys/class/net/" + name + "/iflink");
	unsigned index = 0;
	in >> index;
	return in ? index : 0;
}

// The veth peer of `link` in this network namespace (the one whose own
// peer is `link`), or an error saying why --xdp cannot send here.
[[nodiscard]] Result<unsigned> same_namespace_peer(const Link &link)
{
	const unsigned peer = iflink_of(link.name);
	char name[IF_NAMESIZE] = {};
	if (peer == 0 || peer == link.index || !::if_indextoname(peer, name) || iflink_of(name) != link.index)
		return fail_usage(fmt::format("--xdp needs a veth whose peer is in the same network namespace; {} is not one",
					      link.name),
				  "send with sendmmsg instead (no --xdp)");
	return peer;
}

} // namespace

[[nodiscard]] Result<XdpSender> XdpSender::open(const Link &link, const FrameTemplate &frame, std::uint64_t rate_pps,
				  std::uint64_t max_lag_ns)
{
	auto peer = same_namespace_peer(link);
	if (!peer)
		return std::unexpected(peer.error());
	auto skel = bpf::Skeleton<xdp_sender>::open();
	if (!skel)
		return std::unexpected(skel.error());
	auto &ro = *(*skel)->rodata;
	ro.out_ifindex = link.index;
	ro.src_port_offset = static_cast<__u32>(frame.src_port_offset());
	ro.seq_offset = static_cast<__u32>(frame.seq_offset());
	ro.src_port_base = frame.src_port_base();
	ro.flows = frame.flows();
	ro.rate_pps = rate_pps;
	ro.max_lag_ns = max_lag_ns;
	static_assert(sizeof(ro.head) == min_frame_size);
	std::memcpy(const_cast<__u64 *>(ro.head), frame.bytes().data(), sizeof(ro.head));
	if (int err = xdp_sender::load(skel->get()); err)
		return fail_errno(-err, "load the XDP sender", "needs root and a kernel with BPF_F_TEST_XDP_LIVE_FRAMES (5.18)");

	XdpSender s;
	s.skel_ = std::move(*skel);
	auto pass = bpf::Link::adopt(bpf_program__attach_xdp(s.skel_->progs.pass_frame, static_cast<int>(*peer)),
				     fmt::format("XDP on the peer of {}", link.name));
	if (!pass)
		return std::unexpected(pass.error());
	s.peer_pass_ = std::move(*pass);
	s.frame_.assign(frame.bytes().begin(), frame.bytes().end());
	s.batch_ = rate_pps ? paced_run_max : unpaced_run;
	return s;
}

[[nodiscard]] Result<std::size_t> XdpSender::send(std::uint64_t first_seq, std::size_t n)
{
	// The program starts the schedule at the first frame it sees (start_ns
	// is 0 in .bss), so the first run's set-up is not a stall.
	auto &bss = *skel_->bss;
	bss.next_seq = first_seq;
	xdp_md ctx{};
	ctx.data_end = static_cast<__u32>(frame_.size());
	ctx.ingress_ifindex = skel_->rodata->out_ifindex;
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame_.data(), .data_size_in = static_cast<__u32>(frame_.size()),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = static_cast<int>(n),
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	if (bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.send_frame), &run) != 0 && errno != EINTR)
		return fail_errno(errno, fmt::format("XDP live-frames run of {}-byte frames", frame_.size()));
	// What the program stamped and redirected, however the run ended.
	return static_cast<std::size_t>(bss.next_seq - first_seq);
}

void XdpSender::stop_at(std::uint64_t deadline_ns)
{
	skel_->bss->stop_ns = deadline_ns;
}

Stalls XdpSender::stalls() const
{
	const auto &bss = *skel_->bss;
	return {bss.stalls, bss.stall_total_ns, bss.stall_max_ns};
}

} // namespace capx::gen
