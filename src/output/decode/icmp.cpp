// SPDX-License-Identifier: GPL-2.0-only
// ICMP (RFC 792) and ICMPv6 (RFC 4443, RFC 4861), in tcpdump's words for
// the messages people look at: echo, unreachable, neighbor discovery.
#include "output/decode/decoders.hpp"

namespace capx::decode {

namespace {

// "udp port 53" etc. from the IPv4 header quoted in an ICMP error.
struct Quoted {
	bool valid = false;
	std::span<const std::uint8_t> dst;
	std::uint8_t proto = 0;
	bool have_port = false;
	std::uint16_t dst_port = 0;
};

Quoted quoted_ipv4(const Bytes &icmp)
{
	constexpr std::size_t kAt = 8;
	Quoted q;
	if (!icmp.has(kAt, 20) || (icmp.u8(kAt) >> 4) != 4)
		return q;
	std::size_t hlen = (icmp.u8(kAt) & 0x0f) * 4u;
	q.valid = true;
	q.dst = icmp.span(kAt + 16, 4);
	q.proto = icmp.u8(kAt + 9);
	if (hlen >= 20 && icmp.has(kAt + hlen, 4)) {
		q.have_port = true;
		q.dst_port = icmp.be16(kAt + hlen + 2);
	}
	return q;
}

void put_unreachable(Line &line, const Bytes &b, std::uint8_t code)
{
	Quoted q = quoted_ipv4(b);
	if (!q.valid) {
		put(line, "unreachable, code {}", code);
		return;
	}
	auto dst = [&]() { put_ipv4(line, q.dst); };
	switch (code) {
	case 0: line += "net "; dst(); line += " unreachable"; return;
	case 1: line += "host "; dst(); line += " unreachable"; return;
	case 2: dst(); put(line, " protocol {} unreachable", q.proto); return;
	case 3:
		dst();
		if (q.proto == 6 || q.proto == 17) {
			put(line, " {} port", q.proto == 6 ? "tcp" : "udp");
		} else {
			put(line, " protocol {} port", q.proto);
		}
		if (q.have_port)
			put(line, " {}", q.dst_port);
		line += " unreachable";
		return;
	case 4: dst(); put(line, " unreachable - need to frag (mtu {})", b.be16(6)); return;
	case 5: dst(); line += " unreachable - source route failed"; return;
	case 6: line += "net "; dst(); line += " unreachable - unknown"; return;
	case 7: line += "host "; dst(); line += " unreachable - unknown"; return;
	case 9: line += "net "; dst(); line += " unreachable - admin prohibited"; return;
	case 10: line += "host "; dst(); line += " unreachable - admin prohibited"; return;
	case 13: line += "host "; dst(); line += " unreachable - admin prohibited filter"; return;
	default: dst(); put(line, " unreachable - #{}", code); return;
	}
}

void put_echo(Line &line, const Bytes &b, const char *what, const char *sep)
{
	put(line, "{}{} id {}{} seq {}", what, sep, b.be16(4), sep, b.be16(6));
}

} // namespace

void decode_icmp(Line &line, Layer layer)
{
	const Bytes &b = layer.bytes;
	line += "ICMP ";
	if (!b.has(0, 4)) {
		put_truncated(line, "icmp");
		return;
	}
	std::uint8_t type = b.u8(0), code = b.u8(1);
	// Every message below but the plain type/code ones reads 8 bytes.
	if (!b.has(0, 8) && type != 10) {
		put(line, "type {}, code {}", type, code);
		put_truncated(line, "icmp");
		return;
	}
	switch (type) {
	case 0: put_echo(line, b, "echo reply", ","); break;
	case 8: put_echo(line, b, "echo request", ","); break;
	case 3: put_unreachable(line, b, code); break;
	case 4: line += "source quench"; break;
	case 5:
		line += "redirect to ";
		put_ipv4(line, b.span(4, 4));
		break;
	case 9: line += "router advertisement"; break;
	case 10: line += "router solicitation"; break;
	case 11: line += code == 0 ? "time exceeded in-transit" : "ip reassembly time exceeded"; break;
	case 12: put(line, "parameter problem - octet {}", b.u8(4)); break;
	case 13: put_echo(line, b, "time stamp request", ""); break;
	case 14: put_echo(line, b, "time stamp reply", ""); break;
	case 17: line += "address mask request"; break;
	case 18: line += "address mask reply"; break;
	default: put(line, "type-#{}", type); break;
	}
	put(line, ", length {}", layer.length);
}

void decode_icmp6(Line &line, Layer layer)
{
	const Bytes &b = layer.bytes;
	line += "ICMP6, ";
	if (!b.has(0, 4)) {
		put_truncated(line, "icmp6");
		return;
	}
	std::uint8_t type = b.u8(0), code = b.u8(1);
	// Neighbor discovery messages carry an address at offset 8.
	auto target = [&](std::size_t at) {
		auto addr = b.span(at, 16);
		if (addr.empty())
			return false;
		put_ipv6(line, addr);
		return true;
	};
	auto cut = [&](const char *what) {
		line += what;
		put_truncated(line, "icmp6");
	};
	switch (type) {
	case 1: {
		static constexpr const char *kCodes[] = {
			"no route", "admin prohibited", "beyond scope", "unreachable address",
			"unreachable port", "source address failed policy", "reject route",
		};
		line += "destination unreachable, ";
		if (code < std::size(kCodes))
			line += kCodes[code];
		else
			put(line, "code {}", code);
		// The quoted packet's destination: which address was unreachable.
		if (auto addr = b.span(8 + 24, 16); !addr.empty()) {
			line += ' ';
			put_ipv6(line, addr);
		}
		break;
	}
	case 2:
		if (!b.has(0, 8))
			return cut("packet too big");
		put(line, "packet too big, mtu {}", b.be32(4));
		break;
	case 3: line += code == 0 ? "time exceeded in-transit" : "reassembly time exceeded"; break;
	case 4:
		if (!b.has(0, 8))
			return cut("parameter problem");
		put(line, "parameter problem, code {}, pointer {}", code, b.be32(4));
		break;
	case 128:
	case 129:
		if (!b.has(0, 8))
			return cut(type == 128 ? "echo request" : "echo reply");
		put_echo(line, b, type == 128 ? "echo request" : "echo reply", ",");
		break;
	case 130:
		// MLDv2 queries (RFC 3810) are at least 28 bytes, MLDv1 ones 24.
		line += layer.length >= 28 ? "multicast listener query v2 [gaddr " : "multicast listener query [gaddr ";
		if (!target(8))
			return put_truncated(line, "icmp6");
		line += ']';
		break;
	case 131: line += "multicast listener report"; break;
	case 132: line += "multicast listener done"; break;
	case 133: line += "router solicitation"; break;
	case 134: line += "router advertisement"; break;
	case 135:
		line += "neighbor solicitation, who has ";
		if (!target(8))
			return put_truncated(line, "icmp6");
		break;
	case 136:
		line += "neighbor advertisement, tgt is ";
		if (!target(8))
			return put_truncated(line, "icmp6");
		break;
	case 137:
		line += "redirect, ";
		if (!target(24))
			return put_truncated(line, "icmp6");
		line += " to ";
		if (!target(8))
			return put_truncated(line, "icmp6");
		break;
	case 143:
		if (!b.has(0, 8))
			return cut("multicast listener report v2");
		put(line, "multicast listener report v2, {} group record(s)", b.be16(6));
		break;
	default: put(line, "unknown icmp6 type ({})", type); break;
	}
	put(line, ", length {}", layer.length);
}

} // namespace capx::decode
