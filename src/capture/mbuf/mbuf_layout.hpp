// SPDX-License-Identifier: GPL-2.0-only
// struct rte_mbuf as the target's DPDK lays it out: a built-in table for
// the ABIs in use (20.11 to 24.11; with and without buf_iova), picked from
// the librte_mbuf.so.N the process maps (or the executable's DWARF when it
// has it), or given with --mbuf-layout.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "capture/uprobe/process.hpp"
#include "capx/mbuf_abi.h"
#include "core/error.hpp"

namespace capx::mbuf {

struct MbufLayout {
	std::string name; // "dpdk-22.11" ... or "custom"
	capx_mbuf_layout offsets{};
};

// The built-in layouts, by name.
std::span<const MbufLayout> builtin_layouts();

// --mbuf-layout VALUE: a built-in name, or field=offset pairs
// ("buf_addr=0,data_off=16,...", every field of capx_mbuf_layout but size).
[[nodiscard]] Result<MbufLayout> parse_layout(std::string_view value);

// A layout from offsets found elsewhere (DWARF): every field must end
// within the first 128 bytes; `size` is computed.
[[nodiscard]] Result<MbufLayout> make_layout(std::string name, capx_mbuf_layout offsets);

// The layout of the target: DWARF of struct rte_mbuf in the executable or
// the librte_mbuf.so it maps (or their /usr/lib/debug/.build-id files) when
// present, named "dwarf:BASENAME"; else the table entry for the mapped (for
// --binary without a process: DT_NEEDED) librte_mbuf.so.N, "dpdk-22.11" for
// .23 and so on, always the variant with buf_iova (a build without it needs
// DWARF or --mbuf-layout dpdk-XX.11-no-iova); else (a static build) an
// error asking for --mbuf-layout.
[[nodiscard]] Result<MbufLayout> detect_layout(const uprobe::Target &target);

} // namespace capx::mbuf
