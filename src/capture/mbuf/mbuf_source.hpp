// SPDX-License-Identifier: GPL-2.0-only
// `capx mbuf`: packets as a running DPDK application's functions see its
// rte_mbufs, read from the BPF ring shared by all uprobes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/mbuf/mbuf_layout.hpp"
#include "capture/mbuf/mbuf_probe_spec.hpp"
#include "capture/source.hpp"
#include "core/error.hpp"
#include "core/snaplen.hpp"

namespace capx::mbuf {

// What the CLI parsed (src/cli/mbuf.cpp); check_config() tells whether the
// options go together, and the source takes it as it is.
struct MbufConfig {
	std::optional<pid_t> pid;            // --pid
	std::string binary;                  // --binary (exactly one of pid/binary)
	std::vector<MbufProbeSpec> probes;   // -f, parsed
	bool on_return = false;              // --ret: -f SYMBOL@N@M read at return, count = return value
	std::optional<std::uint16_t> port;   // --port (then no -f)
	std::optional<std::uint16_t> queue;  // --queue (with --port)
	bool rx = false, tx = false;         // --rx / --tx (with --port; one of them)
	std::optional<MbufLayout> layout;    // --mbuf-layout, parsed; none: detect
	std::string expression;
	std::uint32_t snaplen = kMaxSnaplen;
	std::uint64_t ring_kib = 8192;       // -B
};

// Whether the options go together, checked without looking at any process
// (usage errors): one target, -f or --port, --queue/--rx/--tx only with
// --port and one direction, --ret only with -f.
[[nodiscard]] Result<void> check_config(const MbufConfig &config);

class MbufSource {
public:
	// Resolves the target, the probes and the layout, loads and attaches.
	// The capture ends by itself (poll returns an error-free stop) when
	// every target process has exited.
	[[nodiscard]] static Result<std::unique_ptr<Source>> make(const MbufConfig &config);
};

} // namespace capx::mbuf
