// SPDX-License-Identifier: GPL-2.0-only
// One ring record of bpf/skb.bpf.c as a packet: the generic part is
// bpf::event_to_packet (src/bpf/capture_maps.hpp); this adds what only
// capx skb knows: the sk_buff's address, the device's name, the drop
// reason's name and the kernel stack, as typed PacketMeta (written out by
// src/output/packet_meta_text.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.hpp"
#include "core/packet.hpp"

namespace capx::skb {

// What the converter asks the kernel about a record. Each part may be empty
// (then that fact is shown as a number, or left out).
struct RecordLookups {
	// The name of an `enum skb_drop_reason` value ("NO_SOCKET" or
	// "SKB_DROP_REASON_NO_SOCKET"), valid as long as the converter; empty
	// when unknown.
	std::function<std::string_view(std::uint32_t)> drop_reason_name;
	// The addresses of a recorded kernel stack, innermost first
	// (skb::ProbeSet::stack); empty when it is gone.
	std::function<std::vector<std::uint64_t>(std::uint32_t)> stack;
	// A kernel address as "function+0xOFFSET"; empty when unknown.
	std::function<std::string(std::uint64_t)> symbol;
	// The inode of capx's own network namespace: device names are looked up
	// (if_indextoname) only for packets seen there. 0: never.
	std::uint32_t own_netns = 0;
};

// What a record says about the capture besides the packet.
struct RecordFacts {
	// The packet lost bytes it should have had: not to the snaplen or the
	// record buffer, but because the kernel did not let them be read (paged
	// fragments on a kernel without page_offset_base, a frag_list).
	bool unreadable_bytes = false;
	bool l3 = false; // seen without a MAC header; the Ethernet header is made up
};

struct SkbRecord {
	PacketView packet;
	RecordFacts facts;
};

class RecordConverter {
public:
	RecordConverter(WallClock clock, RecordLookups lookups, std::uint32_t snaplen);

	// The packet of `record` into `out` (every field of it set), false for
	// a malformed record. out.data and out.meta.comm point into the
	// record; the device name and the drop reason into the converter, as
	// long as it lives; the stack text into the converter until the next
	// record that has one (so packets with stacks cannot wait in a batch:
	// keeps_stacks()).
	bool convert(std::span<const std::uint8_t> record, PacketView &out, RecordFacts &facts);
	// The same as a new SkbRecord (std::nullopt: malformed).
	std::optional<SkbRecord> convert(std::span<const std::uint8_t> record);
	bool keeps_stacks() const { return static_cast<bool>(lookups_.stack); }

private:
	std::string_view device_name(std::uint32_t ifindex, std::uint64_t now_ns);

	WallClock clock_;
	RecordLookups lookups_;
	std::uint32_t snaplen_;
	std::string stack_; // meta.stack's text
	// ifindex -> name ("" when it has none), forgotten every second so a
	// renamed or re-created device shows its new name; the names it gave
	// out stay in interned_.
	std::unordered_map<std::uint32_t, std::string_view> names_;
	std::unordered_set<std::string> interned_;
	std::uint64_t names_since_ns_ = 0;
};

// The netns inode of this process (/proc/self/ns/net), 0 when unknown.
std::uint32_t own_netns_inode();

} // namespace capx::skb
