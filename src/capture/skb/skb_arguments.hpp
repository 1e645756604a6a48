// SPDX-License-Identifier: GPL-2.0-only
// The -i, --netns and --mark arguments of `capx skb`, turned into the
// numbers the BPF side compares with (skb::ProbeFilters). Resolved before
// anything is loaded, so a typo is reported as such.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/error.hpp"

namespace capx::skb {

// -i: a device name, looked up in capx's own network namespace, or an
// ifindex taken as it is (a device in another namespace, with --netns).
// "any" means every device (0); "" is a usage error (not giving -i is how
// to say "every device"). Names are looked up by interface_index(), the
// lookup `capx ring -i` uses too.
[[nodiscard]] Result<std::uint32_t> resolve_interface_argument(std::string_view word);

// --netns: a namespace inode number, a path to a namespace file
// (/proc/PID/ns/net, /run/netns/NAME), or a bare NAME of `ip netns`
// (/run/netns/NAME). "" is a usage error: it used to mean every namespace,
// silently; not giving --netns says that.
[[nodiscard]] Result<std::uint32_t> resolve_netns_argument(std::string_view word);

// --mark: decimal or 0x hexadecimal, 32 bits.
[[nodiscard]] Result<std::uint32_t> parse_mark_argument(std::string_view word);

} // namespace capx::skb
