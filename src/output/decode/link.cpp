// SPDX-License-Identifier: GPL-2.0-only
// Link layers (Ethernet, Linux cooked v1/v2, raw IP), VLAN tags and the
// EtherType dispatch.
#include "output/decode/decode.hpp"

#include <algorithm>

#include "core/packet.hpp"
#include "output/decode/decoders.hpp"

namespace capx {

namespace decode {

namespace {

constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeArp = 0x0806;
constexpr std::uint16_t kEtherTypeRarp = 0x8035;
constexpr std::uint16_t kEtherTypeVlan = 0x8100;     // 802.1Q
constexpr std::uint16_t kEtherTypeQinQ = 0x88a8;     // 802.1ad
constexpr std::uint16_t kEtherTypeQinQOld = 0x9100;  // pre-802.1ad QinQ
constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;
// EtherType values start here; below 1501 the field is an 802.3 length.
constexpr std::uint16_t kEtherTypeMin = 0x0600;

bool is_vlan(std::uint16_t ethertype)
{
	return ethertype == kEtherTypeVlan || ethertype == kEtherTypeQinQ ||
	       ethertype == kEtherTypeQinQOld;
}

// An 802.3 frame: the type field is a length and an 802.2 LLC header follows.
void decode_llc(Line &line, Layer layer)
{
	if (!layer.bytes.has(0, 2)) {
		put(line, "802.3, length {}", layer.length);
		put_truncated(line, "llc");
		return;
	}
	put(line, "802.3 LLC, dsap 0x{:02x}, ssap 0x{:02x}, length {}",
	    layer.bytes.u8(0), layer.bytes.u8(1), layer.length);
}

void decode_ethernet(Line &line, Layer frame)
{
	constexpr std::size_t kHeaderLen = 14;
	if (!frame.bytes.has(0, kHeaderLen)) {
		put_truncated(line, "ether");
		return;
	}
	std::uint16_t type = frame.bytes.be16(12);
	Layer payload = frame.after(kHeaderLen);
	if (type < kEtherTypeMin) {
		decode_llc(line, payload);
		return;
	}
	decode_ethertype(line, type, payload, 0);
}

// Linux cooked packet types (if_packet.h PACKET_HOST...), in tcpdump's words.
std::string_view packet_type_word(std::uint16_t type)
{
	switch (type) {
	case 0: return "In";   // PACKET_HOST
	case 1: return "B";    // PACKET_BROADCAST
	case 2: return "M";    // PACKET_MULTICAST
	case 3: return "P";    // PACKET_OTHERHOST
	case 4: return "Out";  // PACKET_OUTGOING
	default: return "?";
	}
}

// The protocol field of a cooked header: an EtherType, or one of the
// small LINUX_SLL_P_* values (libpcap's sll.h) for frames without one.
void decode_cooked_protocol(Line &line, std::uint16_t protocol, Layer payload)
{
	if (protocol >= kEtherTypeMin) {
		decode_ethertype(line, protocol, payload, 0);
		return;
	}
	switch (protocol) {
	case 0x0001: // LINUX_SLL_P_802_3: Novell raw 802.3
		put(line, "802.3, length {}", payload.length);
		return;
	case 0x0004: // LINUX_SLL_P_802_2
		decode_llc(line, payload);
		return;
	default:
		put(line, "sll-proto 0x{:04x}, length {}", protocol, payload.length);
		return;
	}
}

// LINUX_SLL: packet type, ARPHRD type, address length, 8 address bytes,
// protocol (libpcap's sll.h).
void decode_sll(Line &line, Layer frame)
{
	constexpr std::size_t kHeaderLen = 16;
	if (!frame.bytes.has(0, kHeaderLen)) {
		put_truncated(line, "sll");
		return;
	}
	put(line, "{} ", packet_type_word(frame.bytes.be16(0)));
	decode_cooked_protocol(line, frame.bytes.be16(14), frame.after(kHeaderLen));
}

// LINUX_SLL2: protocol, reserved, ifindex, ARPHRD type, packet type,
// address length, 8 address bytes (libpcap's sll.h). The interface is
// printed by index: looking names up per packet would cost a syscall.
void decode_sll2(Line &line, Layer frame)
{
	constexpr std::size_t kHeaderLen = 20;
	if (!frame.bytes.has(0, kHeaderLen)) {
		put_truncated(line, "sll2");
		return;
	}
	put(line, "ifindex {} {} ", frame.bytes.be32(4), packet_type_word(frame.bytes.u8(10)));
	decode_cooked_protocol(line, frame.bytes.be16(0), frame.after(kHeaderLen));
}

// LINKTYPE_RAW: the IP version nibble says which.
void decode_raw(Line &line, Layer frame)
{
	if (!frame.bytes.has(0, 1)) {
		put_truncated(line, "ip");
		return;
	}
	switch (frame.bytes.u8(0) >> 4) {
	case 4:
		decode_ipv4(line, frame, 0);
		return;
	case 6:
		decode_ipv6(line, frame, 0);
		return;
	default:
		put(line, "ip v{}, length {}", frame.bytes.u8(0) >> 4, frame.length);
		return;
	}
}

} // namespace

void decode_ethertype(Line &line, std::uint16_t ethertype, Layer layer, int depth)
{
	// VLAN tags (802.1Q, QinQ) in a loop: "vlan 200, p 0, vlan 2001, p 0, "
	// as tcpdump -e shows them, then the inner protocol.
	while (is_vlan(ethertype)) {
		if (!layer.bytes.has(0, 4)) {
			put_truncated(line, "vlan");
			return;
		}
		std::uint16_t tci = layer.bytes.be16(0);
		put(line, "vlan {}, p {}{}, ", tci & 0x0fff, tci >> 13, (tci & 0x1000) ? ", DEI" : "");
		ethertype = layer.bytes.be16(2);
		layer = layer.after(4);
		if (ethertype < kEtherTypeMin) {
			decode_llc(line, layer);
			return;
		}
	}
	switch (ethertype) {
	case kEtherTypeIpv4:
		decode_ipv4(line, layer, depth);
		return;
	case kEtherTypeIpv6:
		decode_ipv6(line, layer, depth);
		return;
	case kEtherTypeArp:
	case kEtherTypeRarp:
		decode_arp(line, layer);
		return;
	default:
		put(line, "ethertype 0x{:04x}, length {}", ethertype, layer.length);
		return;
	}
}

} // namespace decode

void decode_packet(std::string &out, std::uint16_t linktype,
		   std::span<const std::uint8_t> data, std::uint32_t wire_len)
{
	using namespace decode;
	// A source that reports a wire length shorter than what it captured is
	// wrong; trust the bytes.
	Layer frame{Bytes(data), std::max<std::uint32_t>(wire_len, static_cast<std::uint32_t>(data.size()))};
	switch (linktype) {
	case kLinkEthernet:
		decode_ethernet(out, frame);
		return;
	case kLinkLinuxSll:
		decode_sll(out, frame);
		return;
	case kLinkLinuxSll2:
		decode_sll2(out, frame);
		return;
	case kLinkRaw:
		decode_raw(out, frame);
		return;
	default:
		put(out, "linktype {}, length {}", linktype, frame.length);
		return;
	}
}

} // namespace capx
