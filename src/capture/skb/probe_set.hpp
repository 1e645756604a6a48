// SPDX-License-Identifier: GPL-2.0-only
// The loaded and attached BPF side of `capx skb` (bpf/skb.bpf.c): one BPF
// object per probe, all sharing the first object's maps (event ring,
// counters, scratch slots, stack traces) through bpf_map__reuse_fd(), so
// one ring carries every probe's packets, each tagged with its probe id
// (the index in the vector given to make()).
//
// Every object is destroyed and every link detached in the destructor; the
// links are fd-owned, so the kernel also detaches them if capx is killed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpf/inject.hpp"
#include "capture/bpf_ring_source.hpp"
#include "capture/skb/probe_spec.hpp"
#include "capx/event.h"
#include "core/error.hpp"

namespace capx::skb {

// What every probe of a session filters on besides the expression.
struct ProbeFilters {
	std::uint32_t ifindex = 0;             // 0: any device
	std::uint32_t netns = 0;               // 0: any namespace (inode)
	std::optional<std::uint32_t> mark;     // skb->mark
	std::uint32_t snaplen = CAPX_PACKET_BUF_SIZE;
	// Bytes the filter can read (EbpfFilter::bytes_needed; the larger of the
	// L2 and L3 translations), counted from where each filter starts (the
	// L3 one: the network header). Only these are copied before the filter
	// runs, the rest up to the snaplen for a match. Default: all.
	std::uint32_t filter_bytes = CAPX_PACKET_BUF_SIZE;
	bool stacks = false;                   // -S: record the kernel stack
};

// The filter, translated for the two places a packet can start (see
// bpf/skb.bpf.c): `l2` is the Ethernet-compiled expression in buffer mode
// (FilterBodies::buffer), `l3` the RAW-compiled one (FilterBodies::l3),
// or a body that returns 0 when the expression needs a link-layer header.
class ProbeSet final : public BpfProbes {
public:
	// Loads and attaches every probe (at most CAPX_MAX_PROBES: the -f
	// parser's limit). A probe with kprobe_fallback whose
	// fentry program cannot load or attach is retried as a kprobe (logged at
	// info level); attached_as() tells what each probe became.
	[[nodiscard]] static Result<std::unique_ptr<ProbeSet>> make(const std::vector<ResolvedProbe> &probes,
						      const ProbeFilters &filters,
						      const bpf::FilterBodies &bodies,
						      std::uint64_t ring_bytes);
	// Loads `probe`'s program as make() does and attaches nothing: what
	// the verifier took (the verifier budget test).
	[[nodiscard]] static Result<std::vector<bpf::ProgramCost>> verify(const ResolvedProbe &probe, const ProbeFilters &filters,
							    const bpf::FilterBodies &bodies);
	~ProbeSet() override;

	int events_map_fd() const override;
	// The probe as attached (after any fallback).
	const ResolvedProbe &attached_as(std::uint32_t probe_id) const;
	std::size_t size() const override;
	[[nodiscard]] Result<capx_counters> counters(std::uint32_t probe_id) const override;
	// The kernel addresses of a recorded stack (capx_event.stack_id),
	// innermost first; empty when it is no longer in the map.
	std::vector<std::uint64_t> stack(std::uint32_t stack_id) const;

	struct Impl;

private:
	explicit ProbeSet(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

} // namespace capx::skb
