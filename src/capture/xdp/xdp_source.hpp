// SPDX-License-Identifier: GPL-2.0-only
// `capx xdp`: packets at XDP programs, with each packet's verdict, read
// from the BPF ring of capx's programs (bpf/xdp.bpf.c).
#pragma once

#include <memory>

#include "capture/source.hpp"
#include "capture/xdp/xdp_config.hpp"
#include "core/error.hpp"

namespace capx::xdp {

class XdpSource {
public:
	// Chooses the method, loads and attaches capx's programs; says on
	// stderr what it attached where.
	[[nodiscard]] static Result<std::unique_ptr<Source>> make(const XdpConfig &config);
};

} // namespace capx::xdp
