// SPDX-License-Identifier: GPL-2.0-only
// The loaded and attached BPF side of `capx mbuf` (bpf/mbuf.bpf.c): one BPF
// object for the whole session, its programs attached once per probe with
// the probe id as BPF cookie; one ring carries every probe's packets.
//
// Every link is detached and the object destroyed in the destructor; links
// are fd-owned, so the kernel also removes the uprobes if capx is killed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bpf/inject.hpp"
#include "capture/bpf_ring_source.hpp"
#include "capture/mbuf/mbuf_layout.hpp"
#include "capture/uprobe/process.hpp"
#include "capture/uprobe/symbols.hpp"
#include "capx/event.h"
#include "capx/mbuf_abi.h"
#include "core/error.hpp"

namespace capx::mbuf {

struct UprobeSpec {
	uprobe::UprobeLocation where;
	capx_mbuf_probe config{}; // mode CAPX_MBUF_BURST_RET: entry + return probe
	std::string name;         // the capture point's name ("rte_eth_call_rx_callbacks@3@4", "port 0 rx")
};

struct CaptureLimits {
	std::uint32_t snaplen = CAPX_PACKET_BUF_SIZE;
	// Bytes the filter can read (EbpfFilter::bytes_needed): copied before
	// it runs, the rest up to the snaplen only for a match.
	std::uint32_t filter_bytes = CAPX_PACKET_BUF_SIZE;
	std::uint64_t ring_bytes = 8u << 20;
};

class UprobeSet final : public BpfProbes {
public:
	// Loads bpf/mbuf.bpf.c with `filter` injected (FilterBodies::buffer;
	// Ethernet), the layout and the probe configs set, and attaches every
	// probe (at most CAPX_MAX_PROBES: the -f parser's limit) (pid target.uprobe_pid; with target.by_binary only in processes
	// whose executable is target.exe_dev/exe_inode). Errors name the probe.
	[[nodiscard]] static Result<std::unique_ptr<UprobeSet>> make(const std::vector<UprobeSpec> &probes, const uprobe::Target &target,
						       const MbufLayout &layout, const bpf::FilterBodies &filter,
						       const CaptureLimits &limits);
	// Loads the object as make() does and attaches nothing: what the
	// verifier took for each program (the verifier budget test).
	[[nodiscard]] static Result<std::vector<bpf::ProgramCost>> verify(const uprobe::Target &target, const MbufLayout &layout,
							    const bpf::FilterBodies &filter,
							    const CaptureLimits &limits);
	~UprobeSet() override;

	int events_map_fd() const override;
	std::size_t size() const override;
	[[nodiscard]] Result<capx_counters> counters(std::uint32_t probe_id) const override;

	struct Impl;

private:
	explicit UprobeSet(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

} // namespace capx::mbuf
