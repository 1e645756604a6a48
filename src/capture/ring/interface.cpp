// SPDX-License-Identifier: GPL-2.0-only
#include "capture/ring/interface.hpp"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "capture/interface_lookup.hpp"
#include "core/unique_fd.hpp"

namespace capx::ring {

namespace {

[[nodiscard]] Result<void> fill_device_facts(Interface &iface)
{
	// An ordinary datagram socket answers SIOCGIF* without privileges.
	UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (!fd)
		return fail_errno(errno, "socket");
	struct ifreq ifr{};
	std::strncpy(ifr.ifr_name, iface.name.c_str(), IFNAMSIZ - 1);
	if (::ioctl(fd.get(), SIOCGIFHWADDR, &ifr) < 0)
		return fail_errno(errno, fmt::format("interface '{}'", iface.name));
	iface.arphrd = ifr.ifr_hwaddr.sa_family;
	if (::ioctl(fd.get(), SIOCGIFFLAGS, &ifr) < 0)
		return fail_errno(errno, fmt::format("interface '{}'", iface.name));
	// bind(2) to a down device succeeds and reports ENETDOWN later, on the
	// first poll (packet_do_bind, net/packet/af_packet.c): say it now.
	if (!(ifr.ifr_flags & IFF_UP))
		return fail(fmt::format("interface '{}' is down", iface.name),
			    fmt::format("ip link set {} up", iface.name));
	return {};
}

} // namespace

[[nodiscard]] Result<Interface> resolve_interface(std::string_view word)
{
	Interface iface;
	if (word == "any") {
		iface.name = "any";
		return iface;
	}
	// Names and indexes are looked up where `capx skb -i` looks them up
	// too, so a mistake reads the same in both.
	unsigned index = 0;
	auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), index);
	if (!word.empty() && ec == std::errc() && end == word.data() + word.size()) {
		auto name = interface_name(index);
		if (!name)
			return std::unexpected(std::move(name.error()));
		iface.name = std::move(*name);
		iface.index = index;
	} else {
		auto found = interface_index(word);
		if (!found)
			return std::unexpected(std::move(found.error()));
		iface.name = std::string(word);
		iface.index = *found;
	}
	if (auto r = fill_device_facts(iface); !r)
		return std::unexpected(std::move(r.error()));
	return iface;
}

} // namespace capx::ring
