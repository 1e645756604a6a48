// SPDX-License-Identifier: GPL-2.0-only
// The loaded BPF side of `capx xdp` (bpf/xdp.bpf.c): capx's wrapper
// program (around the user's program, or alone as capx's own
// pass-through), or the five programs of an xdpcap hook, with the maps
// they write; and, once attached, what keeps them there.
//
// A program array takes only programs of the same kind as its owner, the
// first program that used it (__bpf_prog_map_compatible(),
// kernel/bpf/core.c: type, JIT, xdp.frags and, on newer kernels, the
// expected attach type). The kernel does not say a program's flags, so
// capx loads its programs with each combination in turn until the user's
// program (wrap) or the hook map (hook) takes them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "bpf/inject.hpp"
#include "bpf/link.hpp"
#include "capture/bpf_ring_source.hpp"
#include "capture/xdp/xdp_change.hpp"
#include "capture/xdp/xdp_program.hpp"
#include "core/error.hpp"

namespace capx::xdp {

// What every program of a session records.
struct ProbeLayout {
	std::optional<std::uint32_t> entry_probe; // probe ids of the sides written
	std::optional<std::uint32_t> exit_probe;
	std::uint32_t actions = ~0u;              // --action mask
	std::uint32_t snaplen = CAPX_PACKET_BUF_SIZE;
	std::uint32_t filter_bytes = CAPX_PACKET_BUF_SIZE;
	std::uint64_t ring_bytes = 8u << 20;
};

class XdpProbes final : public BpfProbes {
public:
	// capx's wrapper with `target` in its slot, not attached; without a
	// target, capx's own pass-through program (xdp.frags: it runs at any
	// MTU).
	[[nodiscard]] static Result<std::unique_ptr<XdpProbes>> wrapper(const ProgramInfo *target, const ProbeLayout &layout,
									const bpf::FilterBodies &bodies);
	// The hook programs, loaded to fit `hook_map` (a PROG_ARRAY), not put
	// in it.
	[[nodiscard]] static Result<std::unique_ptr<XdpProbes>> hook(int hook_map_fd, const ProbeLayout &layout,
								     const bpf::FilterBodies &bodies);
	// Loads capx's own program as wrapper() does and attaches nothing: what
	// the verifier took (the verifier budget test).
	[[nodiscard]] static Result<std::vector<bpf::ProgramCost>> verify(const ProbeLayout &layout,
									  const bpf::FilterBodies &bodies);
	~XdpProbes() override;

	// The wrapper program (wrapper()).
	int program_fd() const;
	// The hook program for XDP action `action` (0..4; hook()).
	int hook_program_fd(std::uint32_t action) const;

	// Attaches capx's own program (wrapper() without a target) to the
	// interface through a bpf_link: the kernel detaches it when capx's
	// last fd of it closes, however capx ends.
	[[nodiscard]] Result<void> attach_own(std::uint32_t ifindex, std::string_view ifname);
	// Keeps the changes that attach the programs; undone first on
	// destruction.
	void hold(ChangeSet changes);

	int events_map_fd() const override;
	std::size_t size() const override;
	[[nodiscard]] Result<capx_counters> counters(std::uint32_t probe_id) const override;

	struct Impl;

private:
	explicit XdpProbes(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

} // namespace capx::xdp
