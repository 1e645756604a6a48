// SPDX-License-Identifier: GPL-2.0-only
// The kernel filter engine of `capx filter --engine kernel` and of the
// injection tests: bpf/filter_test.bpf.c loaded with the filter injected
// (inject.hpp) and run on given packets with BPF_PROG_TEST_RUN, in either
// placeholder mode. Matches also go through the capture core into the ring,
// like a real capture point's. Needs root.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "bpf/inject.hpp"
#include "bpf/ring_buffer.hpp"
#include "capx/event.h"
#include "core/error.hpp"

struct bpf_object;

namespace capx::bpf {

enum class FilterMode {
	Packet, // capx_filter_pkt on the XDP packet in place
	Buffer, // capx_filter_buf on a copy in a scratch slot
};

class FilterTestProgram {
public:
	// Loads the programs whose body is given (packet, buffer or both).
	[[nodiscard]] static Result<FilterTestProgram> load(const FilterBodies &bodies);

	FilterTestProgram(FilterTestProgram &&) noexcept;
	FilterTestProgram &operator=(FilterTestProgram &&) noexcept;
	~FilterTestProgram();

	// What the filter returns for `packet` (the captured bytes) of length
	// `wire_len` on the wire (>= packet.size()).
	//   Packet mode: 14 to kMaxPacketMode bytes (one XDP test-run buffer).
	//   Buffer mode: up to CAPX_PACKET_BUF_SIZE bytes.
	[[nodiscard]] Result<std::uint32_t> run(FilterMode mode, std::span<const std::uint8_t> packet, std::uint32_t wire_len);

	// Counters of the mode's probe (probe id 0: packet, 1: buffer).
	[[nodiscard]] Result<capx_counters> counters(FilterMode mode) const;

	// Hands the records that matches sent to the ring to `handler`.
	[[nodiscard]] Result<std::size_t> drain(RecordHandler &handler);

	bool has(FilterMode mode) const;

	// The XDP test run's linear buffer: a page minus XDP_PACKET_HEADROOM and
	// struct skb_shared_info (bpf_test_init() in net/bpf/test_run.c).
	static constexpr std::uint32_t kMaxPacketMode = 3520;
	static constexpr std::uint32_t kMinPacket = 14; // ETH_HLEN, bpf_test_init()

private:
	struct Impl;
	explicit FilterTestProgram(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

} // namespace capx::bpf
