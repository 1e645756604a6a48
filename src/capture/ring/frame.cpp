// SPDX-License-Identifier: GPL-2.0-only
#include "capture/ring/frame.hpp"

#include <linux/if_ether.h>

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>

#include "capture/ring/sll2.hpp"

namespace capx::ring {

namespace {

constexpr std::size_t kMacPair = 2 * ETH_ALEN;
constexpr std::uint32_t kTagLen = 4;

void put_be16(std::uint8_t *p, std::uint16_t v)
{
	p[0] = static_cast<std::uint8_t>(v >> 8);
	p[1] = static_cast<std::uint8_t>(v);
}

std::uint16_t tag_protocol(const tpacket3_hdr &h)
{
	// Before TP_STATUS_VLAN_TPID_VALID (Linux 3.14) the tag was always 802.1Q.
	return (h.tp_status & TP_STATUS_VLAN_TPID_VALID) && h.hv1.tp_vlan_tpid ? h.hv1.tp_vlan_tpid
									       : ETH_P_8021Q;
}

} // namespace

void prepare_frame_slow(std::uint8_t *frame, std::size_t room, const FrameLayout &layout, PreparedFrame &out)
{
	// `out` holds the previous frame: start from what a new one has.
	out.tag_restored = false;
	out.truncated_by_ring = false;
	out.hardware_timestamp = false;
	out.view.timestamp_ns = 0;
	out.view.wire_len = 0;
	out.view.data = {};
	out.view.meta.direction = Direction::Unknown;
	out.view.meta.ifindex.reset();
	out.view.meta.vlan_tci.reset();

	const auto &h = *reinterpret_cast<const tpacket3_hdr *>(frame);
	const auto &sll = *reinterpret_cast<const sockaddr_ll *>(frame + kSockaddrOffset);

	// The kernel never writes a frame past its block; a frame that claims
	// to is not read at all.
	if (h.tp_mac < kMinMacOffset || h.tp_mac > room) {
		out.truncated_by_ring = true;
		return;
	}
	std::uint8_t *data = frame + h.tp_mac;
	std::uint32_t caplen = static_cast<std::uint32_t>(std::min<std::size_t>(h.tp_snaplen, room - h.tp_mac));
	std::uint32_t wire = h.tp_len;
	out.truncated_by_ring = caplen < std::min(wire, layout.snaplen);
	// The room in front of the packet that we may overwrite: from the end
	// of the sockaddr_ll to tp_mac.
	const std::size_t headroom = h.tp_mac - kMinMacOffset;

	const bool tagged = h.tp_status & TP_STATUS_VLAN_VALID;
	if (tagged)
		out.view.meta.vlan_tci = h.hv1.tp_vlan_tci;

	if (layout.cooked) {
		// SLL2 header, and for a stripped tag the same shape libpcap gives
		// LINUX_SLL (vlan_offset in pcap-linux.c): protocol = the TPID,
		// then TCI and the inner protocol in front of the payload, which
		// is what libpcap's `vlan` code for SLL2 expects.
		const std::uint32_t extra = kSll2HeaderLen + (tagged ? kTagLen : 0);
		if (headroom >= extra) {
			data -= extra;
			Sll2Fields f;
			f.protocol = tagged ? tag_protocol(h) : ntohs(sll.sll_protocol);
			f.ifindex = static_cast<std::uint32_t>(sll.sll_ifindex);
			f.hatype = sll.sll_hatype;
			f.pkttype = sll.sll_pkttype;
			f.address = {sll.sll_addr, std::min<std::size_t>(sll.sll_halen, sizeof(sll.sll_addr))};
			write_sll2_header(data, f);
			if (tagged) {
				put_be16(data + kSll2HeaderLen, h.hv1.tp_vlan_tci);
				std::memcpy(data + kSll2HeaderLen + 2, &sll.sll_protocol, 2);
				out.tag_restored = true;
			}
			caplen += extra;
			wire += extra;
		}
	} else if (tagged && caplen >= kMacPair && headroom >= kTagLen) {
		// Move the MAC addresses 4 bytes forward and put the tag after
		// them (libpcap does the same in pcap-linux.c, pcap_handle_packet_mmap).
		std::memmove(data - kTagLen, data, kMacPair);
		data -= kTagLen;
		put_be16(data + kMacPair, tag_protocol(h));
		put_be16(data + kMacPair + 2, h.hv1.tp_vlan_tci);
		caplen += kTagLen;
		wire += kTagLen;
		out.tag_restored = true;
	}

	caplen = std::min({caplen, wire, layout.snaplen});
	out.view.timestamp_ns = static_cast<std::uint64_t>(h.tp_sec) * 1'000'000'000ull + h.tp_nsec;
	out.view.wire_len = wire;
	out.view.data = {data, caplen};
	out.view.meta.direction = direction_of(sll.sll_pkttype);
	out.view.meta.ifindex = static_cast<std::uint32_t>(sll.sll_ifindex);
	out.hardware_timestamp = h.tp_status & TP_STATUS_TS_RAW_HARDWARE;
}

} // namespace capx::ring
