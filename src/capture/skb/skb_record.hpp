// SPDX-License-Identifier: GPL-2.0-only
// One ring record of bpf/skb.bpf.c as a packet: the generic part is
// bpf::event_to_packet (src/bpf/capture_maps.hpp); this adds what `capx skb`
// says about each packet, as one line of text (the pcapng comment, and what
// --print shows after the decoded packet):
//
//   dev=IFINDEX(name) netns=INODE cpu=N pid=P comm=C skb=0xADDR [drop=REASON] [stack: a;b;c]
//
// The text is the packet's whole description: the PacketMeta fields it
// covers are left empty so that describe_meta() (src/output/
// packet_meta_text.hpp), which every sink uses, does not say them twice.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/packet.hpp"

namespace capx::skb {

// What the converter asks the kernel about a record. Each part may be empty
// (then that fact is shown as a number, or left out).
struct RecordLookups {
	// The name of an `enum skb_drop_reason` value ("NO_SOCKET" or
	// "SKB_DROP_REASON_NO_SOCKET"); empty when unknown.
	std::function<std::string(std::uint32_t)> drop_reason_name;
	// The addresses of a recorded kernel stack, innermost first
	// (skb::ProbeSet::stack); empty when it is gone.
	std::function<std::vector<std::uint64_t>(std::uint32_t)> stack;
	// A kernel address as "function+0xOFFSET"; empty when unknown.
	std::function<std::string(std::uint64_t)> symbol;
	// The inode of capx's own network namespace: device names are looked up
	// (if_indextoname) only for packets seen there. 0: never.
	std::uint32_t own_netns = 0;
	// False: leave the comment out (the output has no place for it).
	bool describe = true;
};

struct SkbRecord {
	PacketView packet; // data points into the record, meta.comment into the converter
	// The packet lost bytes it should have had: not to the snaplen or the
	// record buffer, but because the kernel did not let them be read (paged
	// fragments on a kernel without page_offset_base, a frag_list).
	bool unreadable_bytes = false;
	bool l3 = false;   // seen without a MAC header; the Ethernet header is made up
};

class RecordConverter {
public:
	RecordConverter(WallClock clock, RecordLookups lookups, std::uint32_t snaplen);

	// std::nullopt for a malformed record. The result's comment is valid
	// until the next call, its data as long as the record.
	std::optional<SkbRecord> convert(std::span<const std::uint8_t> record);
	// The same without copying the result: nullptr for a malformed record,
	// else the converter's own record, valid until the next call.
	const SkbRecord *convert_in_place(std::span<const std::uint8_t> record);
	// For an output without metadata (describes() false): the packet's
	// timestamp, lengths, data and capture point into `out`, whose meta is
	// left as it is (the caller keeps it empty), so that a source can fill
	// an array of views for one batch. `unreadable` as
	// SkbRecord::unreadable_bytes. False for a malformed record.
	bool convert_packet(std::span<const std::uint8_t> record, PacketView &out, bool &unreadable) const;
	bool describes() const { return lookups_.describe; }

private:
	const std::string &device_name(std::uint32_t ifindex, std::uint64_t now_ns);

	WallClock clock_;
	RecordLookups lookups_;
	std::uint32_t snaplen_;
	std::string comment_;
	SkbRecord record_;
	// ifindex -> name ("" when it has none), forgotten every second so a
	// renamed or re-created device shows its new name.
	std::unordered_map<std::uint32_t, std::string> names_;
	std::uint64_t names_since_ns_ = 0;
};

// The netns inode of this process (/proc/self/ns/net), 0 when unknown.
std::uint32_t own_netns_inode();

} // namespace capx::skb
