// SPDX-License-Identifier: GPL-2.0-only
// The decoders of each protocol family, shared inside src/output/decode/.
// Each appends to the line and returns nothing: whatever the bytes say, the
// line says what could be read.
#pragma once

#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "output/decode/bytes.hpp"

namespace capx::decode {

using Line = std::string;

template<typename... Args>
void put(Line &line, fmt::format_string<Args...> format, Args &&...args)
{
	fmt::format_to(std::back_inserter(line), format, std::forward<Args>(args)...);
}

// tcpdump's truncation marker: "[|tcp]".
void put_truncated(Line &line, std::string_view proto);
void put_mac(Line &line, std::span<const std::uint8_t> mac);
void put_ipv4(Line &line, std::span<const std::uint8_t> addr);
void put_ipv6(Line &line, std::span<const std::uint8_t> addr);

// Encapsulations (IP in IP, VLAN in VLAN) nest at most this deep, so a
// crafted packet cannot make the decoder recurse without end.
constexpr int kMaxDepth = 8;

// Link layer payload by EtherType (VLAN tags, ARP, IPv4, IPv6, others).
void decode_ethertype(Line &line, std::uint16_t ethertype, Layer layer, int depth);
void decode_arp(Line &line, Layer layer);

void decode_ipv4(Line &line, Layer layer, int depth);
void decode_ipv6(Line &line, Layer layer, int depth);

// The addresses a transport header's ports are printed with:
// "10.0.0.1.1234 > 10.0.0.2.80". With no addresses (after IPv6 extension
// headers, as tcpdump does), the ports alone: "1234 > 80".
struct Endpoints {
	bool ipv6 = false;
	std::span<const std::uint8_t> src;
	std::span<const std::uint8_t> dst;

	void put_address(Line &line, bool source) const;
	// "src.sport > dst.dport: " from the transport header in `b`;
	// addresses alone when the ports were cut off.
	void put_ports(Line &line, const Bytes &b, bool have_ports) const;
};

void decode_tcp(Line &line, Layer layer, const Endpoints &ends);
void decode_udp(Line &line, Layer layer, const Endpoints &ends);
void decode_icmp(Line &line, Layer layer);
void decode_icmp6(Line &line, Layer layer);

} // namespace capx::decode
