// SPDX-License-Identifier: GPL-2.0-only
// The XDP programs `capx xdp` captures at, as the kernel describes them:
// found by id, by bpffs pin, or as what an interface runs, and whether that
// program is held by a bpf_link.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/unique_fd.hpp"

namespace capx::xdp {

struct ProgramInfo {
	UniqueFd fd;
	std::uint32_t id = 0;
	std::string name;      // bpf_prog_info.name (at most 15 characters)
	std::string function;  // its BTF function's name, empty without BTF
	bool jited = false;
};

// --prog ARG: a program id, or a path (a bpffs pin). Refuses a program
// that is not of type XDP.
[[nodiscard]] Result<ProgramInfo> find_program(std::string_view argument);
// The program with this id.
[[nodiscard]] Result<ProgramInfo> program_by_id(std::uint32_t id);

// What runs at XDP on one interface (bpf_xdp_query()).
struct InterfaceXdp {
	std::uint32_t ifindex = 0;
	std::string ifname;
	std::optional<ProgramInfo> program; // none attached
	// XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE: the mode it runs in, the
	// flag a netlink replace must name.
	std::uint32_t mode_flag = 0;
	// The bpf_link holding it (BPF_LINK_TYPE_XDP on this ifindex), if any:
	// then only bpf_link_update() may change the program.
	std::optional<std::uint32_t> link_id;
};

// -i ARG (name or ifindex in capx's namespace). A program offloaded to the
// NIC, or one in each mode at once, is refused: capx cannot wrap those.
[[nodiscard]] Result<InterfaceXdp> interface_xdp(std::string_view argument);

// What a BPF fd holds: "prog", "map", "link", or empty for no BPF object.
std::string bpf_fd_kind(int fd);

// The interface in capx's namespace this program runs on, if any.
[[nodiscard]] std::optional<std::uint32_t> interface_of(std::uint32_t prog_id);

} // namespace capx::xdp
