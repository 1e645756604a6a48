// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/filter_test_program.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "bpf/capture_maps.hpp"
#include "bpf/skeleton.hpp"
#include "filter_test.skel.h"

namespace capx::bpf {

struct FilterTestProgram::Impl {
	Skeleton<filter_test> skel;
	std::optional<RingBuffer> ring;
	bool packet = false;
	bool buffer = false;
	std::vector<std::uint8_t> padded;
};

FilterTestProgram::FilterTestProgram(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FilterTestProgram::FilterTestProgram(FilterTestProgram &&) noexcept = default;
FilterTestProgram &FilterTestProgram::operator=(FilterTestProgram &&) noexcept = default;
FilterTestProgram::~FilterTestProgram() = default;

[[nodiscard]] Result<FilterTestProgram> FilterTestProgram::load(const FilterBodies &bodies)
{
	if (!bodies.packet && !bodies.buffer)
		return fail("no filter body to run");
	auto skel = Skeleton<filter_test>::open();
	if (!skel)
		return std::unexpected(skel.error());
	auto impl = std::make_unique<Impl>(Impl{std::move(*skel), std::nullopt, bodies.packet.has_value(),
						 bodies.buffer.has_value(), {}});
	filter_test *s = impl->skel.get();
	bpf_program__set_autoload(s->progs.filter_test_pkt, impl->packet);
	bpf_program__set_autoload(s->progs.filter_test_buf, impl->buffer);
	bpf_program__set_autoload(s->progs.filter_test_none, false);
	if (auto r = size_capture_maps(s->obj, 1 << 20); !r)
		return std::unexpected(r.error());
	if (auto r = impl->skel.load(bodies); !r)
		return std::unexpected(r.error());
	auto ring = RingBuffer::open(bpf_map__fd(s->maps.capx_events));
	if (!ring)
		return std::unexpected(ring.error());
	impl->ring.emplace(std::move(*ring));
	return FilterTestProgram(std::move(impl));
}

bool FilterTestProgram::has(FilterMode mode) const
{
	return mode == FilterMode::Packet ? impl_->packet : impl_->buffer;
}

[[nodiscard]] Result<std::uint32_t> FilterTestProgram::run(FilterMode mode, std::span<const std::uint8_t> packet,
					     std::uint32_t wire_len)
{
	if (!has(mode))
		return fail(fmt::format("the {} mode filter was not loaded", mode == FilterMode::Packet ? "packet" : "buffer"));
	if (packet.size() < kMinPacket)
		return fail(fmt::format("a {}-byte packet is too short for an XDP test run (at least {})", packet.size(),
					kMinPacket));
	std::uint32_t max = mode == FilterMode::Packet ? kMaxPacketMode : CAPX_PACKET_BUF_SIZE;
	if (packet.size() > max)
		return fail(fmt::format("a {}-byte packet is too long for {} mode (at most {})", packet.size(),
					mode == FilterMode::Packet ? "packet" : "buffer", max),
			    mode == FilterMode::Packet ? "buffer mode takes up to 64 KiB" : "");
	if (wire_len < packet.size())
		return fail("the wire length is shorter than the packet");

	filter_test *s = impl_->skel.get();
	s->bss->test_wire_len = wire_len;
	s->bss->test_verdict = 0;
	s->bss->test_error = 0;
	struct bpf_program *prog = mode == FilterMode::Packet ? s->progs.filter_test_pkt : s->progs.filter_test_buf;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(),
		    .data_size_in = static_cast<__u32>(packet.size()), .repeat = 1);
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		return fail_errno(errno, "BPF_PROG_TEST_RUN of the filter test program");
	if (opts.retval != XDP_PASS)
		return fail(fmt::format("the filter test program returned XDP action {}", opts.retval));
	if (s->bss->test_error)
		return fail(fmt::format("the filter test program could not read the {}-byte packet", packet.size()));
	return s->bss->test_verdict;
}

[[nodiscard]] Result<capx_counters> FilterTestProgram::counters(FilterMode mode) const
{
	return read_counters(impl_->skel.object(), mode == FilterMode::Packet ? 0 : 1);
}

[[nodiscard]] Result<std::size_t> FilterTestProgram::drain(RecordHandler &handler)
{
	return impl_->ring->consume(handler);
}

} // namespace capx::bpf
