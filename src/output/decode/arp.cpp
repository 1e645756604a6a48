// SPDX-License-Identifier: GPL-2.0-only
// ARP and RARP (RFC 826, RFC 903), worded like tcpdump's print-arp.c.
#include "output/decode/decoders.hpp"

namespace capx::decode {

namespace {

constexpr std::size_t kFixedLen = 8; // hrd, pro, hln, pln, op

bool all_zero(std::span<const std::uint8_t> bytes)
{
	for (auto b : bytes)
		if (b)
			return false;
	return true;
}

} // namespace

void decode_arp(Line &line, Layer layer)
{
	const Bytes &b = layer.bytes;
	if (!b.has(0, kFixedLen)) {
		line += "ARP, ";
		put_truncated(line, "arp");
		return;
	}
	std::uint16_t hrd = b.be16(0);
	std::uint16_t pro = b.be16(2);
	std::uint8_t hln = b.u8(4);
	std::uint8_t pln = b.u8(5);
	std::uint16_t op = b.be16(6);
	bool rarp = op == 3 || op == 4;
	line += rarp ? "RARP, " : "ARP, ";

	// Only Ethernet/IPv4 addresses are spelled out; anything else gets its
	// numbers, not a guess.
	if (hrd != 1 || pro != 0x0800 || hln != 6 || pln != 4) {
		put(line, "hrd {}, pro 0x{:04x}, hln {}, pln {}, op {}, length {}",
		    hrd, pro, hln, pln, op, layer.length);
		return;
	}
	constexpr std::size_t kSha = kFixedLen, kSpa = kSha + 6, kTha = kSpa + 4, kTpa = kTha + 6;
	if (!b.has(kTpa, 4)) {
		switch (op) {
		case 1: line += "Request "; break;
		case 2: line += "Reply "; break;
		default: break;
		}
		put_truncated(line, "arp");
		return;
	}
	auto sha = b.span(kSha, 6), tha = b.span(kTha, 6);
	auto spa = b.span(kSpa, 4), tpa = b.span(kTpa, 4);
	switch (op) {
	case 1: // ARPOP_REQUEST
		line += "Request who-has ";
		put_ipv4(line, tpa);
		// A target hardware address in a request is unusual: show it.
		if (!all_zero(tha)) {
			line += " (";
			put_mac(line, tha);
			line += ')';
		}
		line += " tell ";
		put_ipv4(line, spa);
		break;
	case 2: // ARPOP_REPLY
		line += "Reply ";
		put_ipv4(line, spa);
		line += " is-at ";
		put_mac(line, sha);
		break;
	case 3: // ARPOP_RREQUEST
		line += "Request who-is ";
		put_mac(line, tha);
		line += " tell ";
		put_mac(line, sha);
		break;
	case 4: // ARPOP_RREPLY
		line += "Reply ";
		put_mac(line, tha);
		line += " at ";
		put_ipv4(line, tpa);
		break;
	default:
		put(line, "op {}", op);
		break;
	}
	put(line, ", length {}", layer.length);
}

} // namespace capx::decode
