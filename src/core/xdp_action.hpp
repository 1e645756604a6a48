// SPDX-License-Identifier: GPL-2.0-only
// The names of XDP's actions (enum xdp_action, include/uapi/linux/bpf.h),
// as capx writes and reads them: in --action lists and in the verdict= word
// of packet comments.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace capx {

inline constexpr std::array<std::string_view, 5> kXdpActionNames = {"aborted", "drop", "pass", "tx", "redirect"};

// "drop" for XDP_DROP; empty for a value that is no action.
constexpr std::string_view xdp_action_name(std::uint64_t verdict)
{
	return verdict < kXdpActionNames.size() ? kXdpActionNames[verdict] : std::string_view{};
}

} // namespace capx
