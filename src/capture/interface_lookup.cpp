// SPDX-License-Identifier: GPL-2.0-only
#include "capture/interface_lookup.hpp"

#include <net/if.h>

#include <fmt/format.h>

namespace capx {

std::string interfaces_here_hint()
{
	std::string names;
	struct if_nameindex *list = ::if_nameindex();
	if (!list)
		return "ip link shows the interfaces";
	int shown = 0;
	for (auto *i = list; i->if_index != 0; i++) {
		if (shown == 6) {
			names += ", ...";
			break;
		}
		names += shown++ ? ", " : "";
		names += i->if_name;
	}
	::if_freenameindex(list);
	return fmt::format("interfaces here: {}", names);
}

[[nodiscard]] Result<std::uint32_t> interface_index(std::string_view name)
{
	if (name.empty())
		return fail_usage("empty interface name", "give a device name, an ifindex or 'any'");
	// A name of IFNAMSIZ bytes or more fits no device (struct ifreq holds
	// IFNAMSIZ including the NUL, include/uapi/linux/if.h).
	unsigned index = 0;
	if (name.size() < IFNAMSIZ)
		index = ::if_nametoindex(std::string(name).c_str());
	if (index == 0)
		return fail(fmt::format("no such interface '{}'", name), interfaces_here_hint());
	return index;
}

[[nodiscard]] Result<std::string> interface_name(std::uint32_t index)
{
	char name[IF_NAMESIZE] = {};
	if (index == 0 || !::if_indextoname(index, name))
		return fail(fmt::format("no interface has index {}", index), interfaces_here_hint());
	return std::string(name);
}

} // namespace capx
