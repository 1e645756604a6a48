// SPDX-License-Identifier: GPL-2.0-only
// Address and marker formatting shared by the decoders; no allocation.
#include <arpa/inet.h>

#include "output/decode/decoders.hpp"

namespace capx::decode {

void put_truncated(Line &line, std::string_view proto)
{
	if (!line.empty() && line.back() != ' ')
		line += ' ';
	put(line, "[|{}]", proto);
}

void put_mac(Line &line, std::span<const std::uint8_t> mac)
{
	for (std::size_t i = 0; i < mac.size(); i++)
		put(line, "{}{:02x}", i ? ":" : "", mac[i]);
}

void put_ipv4(Line &line, std::span<const std::uint8_t> addr)
{
	if (addr.size() != 4)
		return;
	put(line, "{}.{}.{}.{}", addr[0], addr[1], addr[2], addr[3]);
}

void put_ipv6(Line &line, std::span<const std::uint8_t> addr)
{
	if (addr.size() != 16)
		return;
	// glibc's inet_ntop writes the RFC 5952 form, the same text tcpdump's
	// addrtostr6() gives; into a stack buffer, so nothing is allocated.
	char text[INET6_ADDRSTRLEN];
	if (::inet_ntop(AF_INET6, addr.data(), text, sizeof(text)))
		line += text;
}

void Endpoints::put_address(Line &line, bool source) const
{
	auto addr = source ? src : dst;
	if (ipv6)
		put_ipv6(line, addr);
	else
		put_ipv4(line, addr);
}

void Endpoints::put_ports(Line &line, const Bytes &b, bool have_ports) const
{
	put_address(line, true);
	if (have_ports)
		put(line, "{}{}", src.empty() ? "" : ".", b.be16(0));
	line += " > ";
	put_address(line, false);
	if (have_ports)
		put(line, "{}{}", dst.empty() ? "" : ".", b.be16(2));
	line += ": ";
}

} // namespace capx::decode
