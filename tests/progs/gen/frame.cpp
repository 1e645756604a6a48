// SPDX-License-Identifier: GPL-2.0-only
#include "gen/frame.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace capx::gen {

namespace {

constexpr std::size_t ethernet_header = 14;
constexpr std::size_t vlan_tag = 4;
constexpr std::size_t ipv4_header = 20;
constexpr std::size_t udp_header = 8;
constexpr std::size_t seq_bytes = 8;

void put16(std::uint8_t *p, std::uint16_t v)
{
	p[0] = static_cast<std::uint8_t>(v >> 8);
	p[1] = static_cast<std::uint8_t>(v);
}

void put32(std::uint8_t *p, std::uint32_t v)
{
	put16(p, static_cast<std::uint16_t>(v >> 16));
	put16(p + 2, static_cast<std::uint16_t>(v));
}

// RFC 1071 one's complement sum over the IPv4 header.
std::uint16_t ipv4_checksum(const std::uint8_t *header)
{
	std::uint32_t sum = 0;
	for (std::size_t i = 0; i < ipv4_header; i += 2)
		sum += static_cast<std::uint32_t>(header[i] << 8 | header[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<std::uint16_t>(~sum);
}

} // namespace

[[nodiscard]] Result<FrameTemplate> FrameTemplate::build(const FrameSpec &spec)
{
	if (spec.size < min_frame_size || spec.size > max_frame_size)
		return fail_usage(fmt::format("frame size {} is outside {}..{}", spec.size, min_frame_size, max_frame_size));
	if (spec.flows == 0 || spec.flows > 65536u - spec.src_port_base)
		return fail_usage(fmt::format("flows must be 1..{}", 65536u - spec.src_port_base));
	if (spec.vlan_id && *spec.vlan_id > 4095)
		return fail_usage(fmt::format("VLAN id {} is outside 0..4095", *spec.vlan_id));

	FrameTemplate t;
	t.bytes_.assign(spec.size, 0);
	t.src_port_base_ = spec.src_port_base;
	t.flows_ = spec.flows;
	std::uint8_t *p = t.bytes_.data();

	std::copy(spec.dst_mac.begin(), spec.dst_mac.end(), p);
	std::copy(spec.src_mac.begin(), spec.src_mac.end(), p + 6);
	std::size_t l3 = 12;
	if (spec.vlan_id) {
		put16(p + l3, 0x8100);
		put16(p + l3 + 2, *spec.vlan_id);
		l3 += vlan_tag;
	}
	put16(p + l3, 0x0800);
	l3 += 2;

	const std::size_t ip_length = spec.size - l3;
	std::uint8_t *ip = p + l3;
	ip[0] = 0x45;                                    // IPv4, 20-byte header
	put16(ip + 2, static_cast<std::uint16_t>(ip_length));
	put16(ip + 6, 0x4000);                           // DF, no fragments
	ip[8] = 64;                                      // TTL
	ip[9] = 17;                                      // UDP
	put32(ip + 12, spec.src_ip);
	put32(ip + 16, spec.dst_ip);
	put16(ip + 10, ipv4_checksum(ip));

	std::uint8_t *udp = ip + ipv4_header;
	put16(udp, spec.src_port_base);
	put16(udp + 2, spec.dst_port);
	put16(udp + 4, static_cast<std::uint16_t>(ip_length - ipv4_header));
	// UDP checksum 0 = none (RFC 768, IPv4 only): the payload changes per
	// frame and nothing on the receiving side checks it.

	std::uint8_t *payload = udp + udp_header;
	std::copy(payload_magic.begin(), payload_magic.end(), payload);

	t.src_port_offset_ = static_cast<std::size_t>(udp - p);
	t.seq_offset_ = static_cast<std::size_t>(payload - p) + payload_magic.size();
	// The smallest frame, tagged, still holds magic and sequence number.
	static_assert(ethernet_header + vlan_tag + ipv4_header + udp_header + 4 + seq_bytes <= min_frame_size);
	return t;
}

void FrameTemplate::stamp(std::uint8_t *out, std::uint64_t seq) const
{
	put16(out + src_port_offset_, static_cast<std::uint16_t>(src_port_base_ + seq % flows_));
	put32(out + seq_offset_, static_cast<std::uint32_t>(seq >> 32));
	put32(out + seq_offset_ + 4, static_cast<std::uint32_t>(seq));
}

} // namespace capx::gen
