// SPDX-License-Identifier: GPL-2.0-only
// IPv4 (RFC 791) and IPv6 with its extension headers (RFC 8200), worded like
// tcpdump -nn, with fragment details capx adds.
#include <optional>

#include "output/decode/decoders.hpp"

namespace capx::decode {

namespace {

// IANA protocol numbers the decoders act on.
enum : std::uint8_t {
	kProtoHopByHop = 0,
	kProtoIcmp = 1,
	kProtoIgmp = 2,
	kProtoIpip = 4,
	kProtoTcp = 6,
	kProtoUdp = 17,
	kProtoIpv6 = 41,
	kProtoRouting = 43,
	kProtoFragment = 44,
	kProtoGre = 47,
	kProtoEsp = 50,
	kProtoAh = 51,
	kProtoIcmpv6 = 58,
	kProtoNoNext = 59,
	kProtoDstOpts = 60,
	kProtoOspf = 89,
	kProtoPim = 103,
	kProtoVrrp = 112,
	kProtoSctp = 132,
};

// Names for "what is in this fragment / this unknown payload"; nullptr for
// the ones printed as ip-proto-N.
const char *protocol_name(std::uint8_t proto)
{
	switch (proto) {
	case kProtoIcmp: return "icmp";
	case kProtoIgmp: return "igmp";
	case kProtoIpip: return "ipip";
	case kProtoTcp: return "tcp";
	case kProtoUdp: return "udp";
	case kProtoIpv6: return "ipv6";
	case kProtoGre: return "gre";
	case kProtoEsp: return "esp";
	case kProtoAh: return "ah";
	case kProtoIcmpv6: return "icmp6";
	case kProtoOspf: return "ospf";
	case kProtoPim: return "pim";
	case kProtoVrrp: return "vrrp";
	case kProtoSctp: return "sctp";
	default: return nullptr;
	}
}

void put_protocol(Line &line, std::uint8_t proto)
{
	if (const char *name = protocol_name(proto))
		line += name;
	else
		put(line, "ip-proto-{}", proto);
}

void put_addresses(Line &line, const Endpoints &ends)
{
	ends.put_address(line, true);
	line += " > ";
	ends.put_address(line, false);
	line += ": ";
}

// Payloads that are the same in IPv4 and IPv6: tunnelled IP, and the
// protocols capx does not decode.
void decode_other(Line &line, std::uint8_t proto, Layer payload, int depth)
{
	if ((proto == kProtoIpip || proto == kProtoIpv6) && depth < kMaxDepth) {
		if (proto == kProtoIpip)
			decode_ipv4(line, payload, depth + 1);
		else
			decode_ipv6(line, payload, depth + 1);
		return;
	}
	put_protocol(line, proto);
	put(line, ", length {}", payload.length);
}

// The Jumbo Payload option (RFC 2675: type 0xc2, 4 bytes) in a hop-by-hop
// header, if there is one.
std::optional<std::uint32_t> jumbo_payload_length(const Bytes &hbh)
{
	if (!hbh.has(0, 2))
		return std::nullopt;
	std::size_t end = (hbh.u8(1) + 1u) * 8u;
	for (std::size_t at = 2; at < end && hbh.has(at, 1);) {
		std::uint8_t type = hbh.u8(at);
		if (type == 0) { // Pad1
			at++;
			continue;
		}
		if (!hbh.has(at, 2))
			break;
		std::uint8_t len = hbh.u8(at + 1);
		if (type == 0xc2 && len == 4 && hbh.has(at + 2, 4))
			return hbh.be32(at + 2);
		at += 2u + len;
	}
	return std::nullopt;
}

} // namespace

void decode_ipv4(Line &line, Layer layer, int depth)
{
	constexpr std::size_t kMinHeader = 20;
	const Bytes &b = layer.bytes;
	line += "IP ";
	if (!b.has(0, kMinHeader)) {
		put_truncated(line, "ip");
		return;
	}
	unsigned version = b.u8(0) >> 4;
	std::uint32_t hlen = (b.u8(0) & 0x0f) * 4u;
	if (version != 4) {
		put(line, "bad version {}, length {}", version, layer.length);
		return;
	}
	if (hlen < kMinHeader) {
		put(line, "bad-hlen {}", hlen);
		return;
	}
	std::uint32_t total = b.be16(2);
	// Segmentation offload (TSO, BIG TCP) hands the stack IPv4 packets with a
	// total length of 0: the real length is what the link layer carried.
	if (total == 0)
		total = layer.length;
	if (total < hlen) {
		put(line, "bad-len {}", total);
		return;
	}
	if (total > layer.length) {
		put(line, "truncated-ip - {} bytes missing! ", total - layer.length);
		total = layer.length;
	}
	Endpoints ends{false, b.span(12, 4), b.span(16, 4)};
	std::uint16_t frag = b.be16(6);
	std::uint32_t frag_offset = (frag & 0x1fff) * 8u;
	bool more_fragments = frag & 0x2000;
	std::uint8_t proto = b.u8(9);
	if (!b.has(0, hlen)) { // options cut short
		put_addresses(line, ends);
		put_truncated(line, "ip");
		return;
	}
	Layer payload{b.first(total).from(hlen), total - hlen};

	if (frag_offset != 0) {
		// A later fragment: no transport header to decode.
		put_addresses(line, ends);
		put_protocol(line, proto);
	} else {
		switch (proto) {
		case kProtoTcp:
			decode_tcp(line, payload, ends);
			break;
		case kProtoUdp:
			decode_udp(line, payload, ends);
			break;
		case kProtoIcmp:
			put_addresses(line, ends);
			decode_icmp(line, payload);
			break;
		default:
			put_addresses(line, ends);
			decode_other(line, proto, payload, depth);
			break;
		}
	}
	// tcpdump's historical "(frag id:size@offset+)" notation.
	if (frag_offset != 0 || more_fragments)
		put(line, " (frag {}:{}@{}{})", b.be16(4), payload.length, frag_offset,
		    more_fragments ? "+" : "");
}

void decode_ipv6(Line &line, Layer layer, int depth)
{
	constexpr std::size_t kHeaderLen = 40;
	const Bytes &b = layer.bytes;
	line += "IP6 ";
	if (!b.has(0, kHeaderLen)) {
		put_truncated(line, "ip6");
		return;
	}
	unsigned version = b.u8(0) >> 4;
	if (version != 6) {
		put(line, "bad version {}, length {}", version, layer.length);
		return;
	}
	// 64 bits: a jumbogram's claimed length plus the header may not fit 32.
	std::uint64_t claimed = kHeaderLen + b.be16(4);
	std::uint8_t next = b.u8(6);
	// A payload length of 0 is a jumbogram (RFC 2675) or segmentation
	// offload (BIG TCP): the Jumbo Payload option says the length, else
	// the link layer does.
	if (claimed == kHeaderLen && next == kProtoHopByHop) {
		auto jumbo = jumbo_payload_length(b.from(kHeaderLen));
		claimed = jumbo ? kHeaderLen + std::uint64_t(*jumbo) : layer.length;
	}
	if (claimed > layer.length) {
		put(line, "truncated-ip6 - {} bytes missing! ", claimed - layer.length);
		claimed = layer.length;
	}
	const std::uint32_t total = static_cast<std::uint32_t>(claimed);
	Endpoints ends{true, b.span(8, 16), b.span(24, 16)};
	const Bytes packet = b.first(total);
	std::uint32_t offset = kHeaderLen;
	// Once an extension header is printed the addresses are out, and the
	// transport prints its ports alone (tcpdump's "HBH 1234 > 80: ...").
	bool addresses_out = false;
	auto addresses = [&]() {
		if (!addresses_out)
			put_addresses(line, ends);
		addresses_out = true;
	};
	auto payload = [&]() {
		return Layer{packet.from(offset), total - offset};
	};
	auto transport_ends = [&]() {
		return addresses_out ? Endpoints{true, {}, {}} : ends;
	};

	// Each header moves `offset` forward by at least 8 bytes, so the loop
	// ends within the packet's length.
	for (;;) {
		std::uint32_t remaining = total - offset;
		switch (next) {
		case kProtoHopByHop:
		case kProtoDstOpts:
		case kProtoRouting: {
			addresses();
			const char *name = next == kProtoHopByHop ? "HBH" : next == kProtoDstOpts ? "DSTOPT" : "RT6";
			if (!packet.has(offset, 4)) {
				line += name;
				put_truncated(line, next == kProtoHopByHop ? "hbh" : next == kProtoDstOpts ? "dstopt" : "rt6");
				return;
			}
			std::uint32_t hlen = (packet.u8(offset + 1) + 1u) * 8u;
			if (next == kProtoRouting)
				put(line, "RT6 (len={}, type={}, segleft={}) ", packet.u8(offset + 1),
				    packet.u8(offset + 2), packet.u8(offset + 3));
			else
				put(line, "{} ", name);
			if (hlen > remaining) {
				put(line, "[bad header length {} > {}]", hlen, remaining);
				return;
			}
			next = packet.u8(offset);
			offset += hlen;
			break;
		}
		case kProtoFragment: {
			constexpr std::uint32_t kFragLen = 8;
			addresses();
			if (!packet.has(offset, kFragLen)) {
				line += "frag ";
				put_truncated(line, "frag");
				return;
			}
			if (remaining < kFragLen) {
				put(line, "frag [bad length {}]", remaining);
				return;
			}
			std::uint32_t frag_offset = packet.be16(offset + 2) & 0xfff8;
			bool more_fragments = packet.be16(offset + 2) & 1;
			put(line, "frag (id 0x{:08x}, {}|{}{}) ", packet.be32(offset + 4), frag_offset,
			    remaining - kFragLen, more_fragments ? "+" : "");
			next = packet.u8(offset);
			offset += kFragLen;
			if (frag_offset != 0) {
				// A later fragment: its protocol, nothing to decode.
				put_protocol(line, next);
				return;
			}
			break;
		}
		case kProtoAh: {
			constexpr std::uint32_t kAhFixed = 12;
			addresses();
			if (!packet.has(offset, kAhFixed)) {
				line += "AH";
				put_truncated(line, "ah");
				return;
			}
			std::uint32_t hlen = (packet.u8(offset + 1) + 2u) * 4u;
			put(line, "AH(spi=0x{:08x},seq=0x{:x}): ", packet.be32(offset + 4), packet.be32(offset + 8));
			if (hlen < kAhFixed || hlen > remaining) {
				put(line, "[bad header length {}]", hlen);
				return;
			}
			next = packet.u8(offset);
			offset += hlen;
			break;
		}
		case kProtoEsp:
			// Encrypted from here on: nothing more can be read.
			addresses();
			if (!packet.has(offset, 8)) {
				line += "ESP";
				put_truncated(line, "esp");
				return;
			}
			put(line, "ESP(spi=0x{:08x},seq=0x{:x}), length {}", packet.be32(offset),
			    packet.be32(offset + 4), remaining);
			return;
		case kProtoNoNext:
			addresses();
			line += "no next header";
			return;
		case kProtoTcp:
			decode_tcp(line, payload(), transport_ends());
			return;
		case kProtoUdp:
			decode_udp(line, payload(), transport_ends());
			return;
		case kProtoIcmpv6:
			addresses();
			decode_icmp6(line, payload());
			return;
		default:
			addresses();
			decode_other(line, next, payload(), depth);
			return;
		}
	}
}

} // namespace capx::decode
