// SPDX-License-Identifier: GPL-2.0-only
// The tcpdump expression of `capx mbuf`: compiled for Ethernet (DPDK
// packets start at the MAC header) and translated for buffer mode, over the
// bytes bpf/mbuf.bpf.c copies out of the mbuf.
#pragma once

#include <cstdint>
#include <string_view>

#include "bpf/inject.hpp"
#include "capx/filter_abi.h"
#include "core/error.hpp"

namespace capx::mbuf {

struct MbufFilter {
	bpf::FilterBodies bodies; // .buffer
	// Bytes the filter can read (EbpfFilter::bytes_needed), at most the
	// snaplen: copied before it runs.
	std::uint32_t bytes_needed = CAPX_PACKET_BUF_SIZE;
};

[[nodiscard]] Result<MbufFilter> build_mbuf_filter(std::string_view expression, std::uint32_t snaplen);

} // namespace capx::mbuf
