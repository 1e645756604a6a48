// SPDX-License-Identifier: GPL-2.0-only
#include "capture/ring/sll2.hpp"

#include <algorithm>
#include <cstring>

namespace capx::ring {

namespace {

void put_be16(std::uint8_t *p, std::uint16_t v)
{
	p[0] = static_cast<std::uint8_t>(v >> 8);
	p[1] = static_cast<std::uint8_t>(v);
}

void put_be32(std::uint8_t *p, std::uint32_t v)
{
	put_be16(p, static_cast<std::uint16_t>(v >> 16));
	put_be16(p + 2, static_cast<std::uint16_t>(v));
}

} // namespace

void write_sll2_header(std::uint8_t *out, const Sll2Fields &f)
{
	constexpr std::size_t kAddressRoom = 8;
	put_be16(out + 0, f.protocol);
	put_be16(out + 2, 0);
	put_be32(out + 4, f.ifindex);
	put_be16(out + 8, f.hatype);
	out[10] = f.pkttype;
	// The length field tells the real address length even when it is
	// longer than the room (libpcap does the same for long addresses).
	out[11] = static_cast<std::uint8_t>(f.address.size());
	std::memset(out + 12, 0, kAddressRoom);
	std::memcpy(out + 12, f.address.data(), std::min(f.address.size(), kAddressRoom));
}

} // namespace capx::ring
