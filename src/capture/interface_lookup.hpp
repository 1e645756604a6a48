// SPDX-License-Identifier: GPL-2.0-only
// Network devices named on the command line (-i), looked up the same way by
// every capture point, so that a mistake reads the same in `capx ring` and
// `capx skb`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace capx {

// A device name in capx's own network namespace -> its ifindex.
//   ""                    usage error "empty interface name" (exit 2)
//   unknown or too long   "no such interface 'NAME'" (exit 1), hinted with
//                         the devices that do exist here
[[nodiscard]] Result<std::uint32_t> interface_index(std::string_view name);

// An ifindex in capx's own namespace -> the device's name;
// "no interface has index N" (exit 1) with the same hint.
[[nodiscard]] Result<std::string> interface_name(std::uint32_t index);

// "interfaces here: lo, eth0, ..." (six at most): the hint of both errors.
std::string interfaces_here_hint();

} // namespace capx
