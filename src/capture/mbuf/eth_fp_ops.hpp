// SPDX-License-Identifier: GPL-2.0-only
// `--port P [--queue Q] --rx|--tx`: the burst functions of a port, found in
// a running process through DPDK's exported fast-path table rte_eth_fp_ops
// (librte_ethdev, DPDK 21.11 and later), so a stripped stock binary can be
// probed by port and direction.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "capture/uprobe/symbols.hpp"
#include "core/error.hpp"

namespace capx::mbuf {

enum class Direction { rx, tx };

struct PortBurst {
	uprobe::UprobeLocation function; // the driver's rx_pkt_burst or tx_pkt_burst
	// Queue pointers (rxq.data[q] / txq.data[q]) indexed by queue id; a
	// queue not asked for (--queue) is 0. At most CAPX_MBUF_MAX_QUEUES.
	std::vector<std::uint64_t> queue_ptrs;
};

// Offsets in struct rte_eth_fp_ops of the DPDK whose librte_ethdev.so has
// ABI major `abi` (22: 21.11, 23: 22.11, 24: 23.11, 25: 24.11); for
// messages and the test against the installed headers.
struct FpOpsOffsets {
	unsigned rx_pkt_burst, rxq_data, tx_pkt_burst, txq_data, size;
};
FpOpsOffsets fp_ops_offsets(unsigned abi);

// Errors: the process does not map librte_ethdev, the port is out of range
// or not started (its burst function is DPDK's dummy), no such queue.
[[nodiscard]] Result<PortBurst> locate_port_burst(pid_t pid, std::uint16_t port, std::optional<std::uint16_t> queue,
				    Direction direction);

} // namespace capx::mbuf
