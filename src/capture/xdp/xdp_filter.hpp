// SPDX-License-Identifier: GPL-2.0-only
// The expression as capx xdp's programs run it: Ethernet-compiled, in both
// placeholder modes (bpf/xdp.bpf.c reads the packet in place where its
// linear part holds what the filter needs, else from a copy).
#pragma once

#include <cstdint>
#include <string_view>

#include "bpf/inject.hpp"
#include "capx/filter_abi.h"
#include "core/error.hpp"

namespace capx::xdp {

struct XdpFilter {
	bpf::FilterBodies bodies;                          // packet and buffer
	std::uint32_t bytes_needed = CAPX_PACKET_BUF_SIZE; // what the filter may read
};

[[nodiscard]] Result<XdpFilter> build_xdp_filter(std::string_view expression, std::uint32_t snaplen);

} // namespace capx::xdp
