// SPDX-License-Identifier: GPL-2.0-only
#include "gen/link.hpp"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/unique_fd.hpp"

namespace capx::gen {

[[nodiscard]] Result<Link> Link::find(const std::string &name)
{
	if (name.empty() || name.size() >= IFNAMSIZ)
		return fail_usage(fmt::format("bad interface name '{}'", name));
	Link link;
	link.name = name;
	link.index = ::if_nametoindex(name.c_str());
	if (link.index == 0)
		return fail_usage(fmt::format("no such interface '{}'", name), "capx-gen sends in the caller's network namespace");

	UniqueFd fd{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
	if (!fd)
		return fail_errno(errno, "socket");
	ifreq req{};
	std::memcpy(req.ifr_name, name.data(), name.size());
	if (::ioctl(fd.get(), SIOCGIFMTU, &req) < 0)
		return fail_errno(errno, fmt::format("MTU of {}", name));
	link.mtu = static_cast<unsigned>(req.ifr_mtu);
	return link;
}

} // namespace capx::gen
