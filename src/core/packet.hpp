// SPDX-License-Identifier: GPL-2.0-only
// What flows from a Source to a Sink: one captured packet and what the
// capture point knows about it. Sources fill it, sinks format it; neither
// knows about the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/snaplen.hpp"

namespace capx {

// libpcap's DLT_/LINKTYPE_ numbers used by capx.
enum LinkType : std::uint16_t {
	kLinkEthernet = 1,      // DLT_EN10MB
	kLinkRaw = 101,         // LINKTYPE_RAW (IPv4/IPv6, no link header)
	kLinkLinuxSll = 113,    // LINUX_SLL
	kLinkLinuxSll2 = 276,   // LINUX_SLL2
};

// One place packets are captured at; a pcapng Interface Description Block.
struct CapturePoint {
	std::string name;        // "eth0", "ip_rcv@fentry", "net:netif_receive_skb"
	std::string description; // free text, e.g. "AF_PACKET TPACKET_V3 ring"
	std::uint16_t linktype = kLinkEthernet;
	std::uint32_t snaplen = kMaxSnaplen;
	std::string filter;      // the tcpdump expression, if any (if_filter)
	std::string os;          // filled by the sink if empty
};

enum class Direction : std::uint8_t {
	Unknown = 0,
	Inbound = 1,
	Outbound = 2,
};

// What a capture point knows about a packet, each fact absent unless the
// source filled it. Sources fill these and nothing else; one formatter
// (src/output/packet_meta_text.hpp) writes them as text, and the pcapng
// writer puts those pcapng has options for into options as well.
// String views point into the source's record or its own buffers: valid
// until the source's next record.
struct PacketMeta {
	Direction direction = Direction::Unknown;
	std::optional<std::uint32_t> ifindex;
	std::string_view ifname;                 // the device's name, when known
	std::optional<std::uint16_t> port;       // a DPDK port id
	std::optional<std::uint32_t> queue;      // the device's RX or TX queue
	std::optional<std::uint32_t> netns;      // the network namespace's inode
	std::optional<std::uint32_t> cpu;
	std::optional<std::uint32_t> pid;        // thread group id
	std::optional<std::uint32_t> tid;
	std::string_view comm;
	std::optional<std::uint64_t> skb;        // the sk_buff's address
	std::optional<std::uint64_t> mbuf;       // the rte_mbuf's address
	std::optional<std::uint16_t> vlan_tci;   // a tag the kernel stripped (already put back into data)
	std::optional<std::uint32_t> xdp_verdict;
	std::optional<std::uint32_t> drop_reason;
	std::string_view drop_reason_name;       // as the kernel's tracepoint prints it ("NO_SOCKET")
	std::string_view stack;                  // "fn+0x1a;caller+0x2c", innermost first
	std::optional<std::uint64_t> packet_id;  // pcapng epb_packetid: the same packet at several points
	std::optional<std::uint64_t> drops_before; // lost on this capture point since the previous packet
};

struct PacketView {
	std::uint64_t timestamp_ns = 0;  // wall clock, ns since the epoch
	std::uint32_t wire_len = 0;      // length on the wire (>= data.size())
	std::span<const std::uint8_t> data; // captured bytes
	std::uint32_t capture_point = 0; // index into Source::capture_points()
	PacketMeta meta;
};

// Packets handed over together (PacketConsumer::on_packets,
// Sink::write_batch): `count` views, each `stride` bytes after the one
// before, so a source can hand over views that sit inside its own larger
// per-packet records without copying them out.
class PacketBatch {
public:
	PacketBatch(const PacketView *first, std::size_t count, std::size_t stride = sizeof(PacketView))
		: first_(reinterpret_cast<const std::byte *>(first)), count_(count), stride_(stride)
	{
	}

	std::size_t size() const { return count_; }
	const PacketView &operator[](std::size_t i) const
	{
		return *reinterpret_cast<const PacketView *>(first_ + i * stride_);
	}
	// The first n (at most size()) / all from the i-th on (i <= size()).
	PacketBatch first(std::size_t n) const { return {first_, n < count_ ? n : count_, stride_}; }
	PacketBatch from(std::size_t i) const { return {first_ + i * stride_, count_ - i, stride_}; }

private:
	PacketBatch(const std::byte *first, std::size_t count, std::size_t stride)
		: first_(first), count_(count), stride_(stride)
	{
	}

	const std::byte *first_;
	std::size_t count_;
	std::size_t stride_;
};

} // namespace capx
