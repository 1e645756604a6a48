// SPDX-License-Identifier: GPL-2.0-only
#include "capture/skb/skb_record.hpp"

#include <net/if.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>


#include "bpf/capture_maps.hpp"
#include "capx/event.h"
#include "core/text_append.hpp"

namespace capx::skb {

namespace {

constexpr std::uint64_t kNameCacheLifetimeNs = 1'000'000'000;

// The kernel's enum spells every value SKB_DROP_REASON_X; the skb:kfree_skb
// tracepoint prints just X (TP_printk with __print_symbolic over
// DEFINE_DROP_REASON, include/trace/events/skb.h): so does capx.
std::string_view short_drop_reason(std::string_view name)
{
	constexpr std::string_view prefix = "SKB_DROP_REASON_";
	if (name.starts_with(prefix))
		name.remove_prefix(prefix.size());
	return name;
}

// A frame of the BPF program that recorded the stack, or of the kernel code
// that runs BPF programs at a hook: bpf_trace_run2 (tp_btf, raw_tp) and the
// tracepoint's __traceiter_* caller, __bpf_trace_* and trace_call_bpf
// (tracepoints, kprobes), the fentry trampoline (bpf_trampoline_*, "[bpf]"
// like the program itself).
bool is_probe_frame(std::string_view symbol)
{
	return symbol.ends_with(" [bpf]") || symbol.starts_with("bpf_prog_") || symbol.starts_with("bpf_trace_run") ||
	       symbol.starts_with("__bpf_trace_") || symbol.starts_with("__traceiter_") || symbol.starts_with("trace_call_bpf") ||
	       symbol.starts_with("bpf_trampoline_") || symbol.starts_with("kprobe_ftrace_handler") ||
	       symbol.starts_with("__bpf_prog_enter") || symbol.starts_with("perf_trace_");
}

} // namespace

std::uint32_t own_netns_inode()
{
	struct stat st {};
	if (::stat("/proc/self/ns/net", &st) != 0)
		return 0;
	return static_cast<std::uint32_t>(st.st_ino);
}

RecordConverter::RecordConverter(WallClock clock, RecordLookups lookups, std::uint32_t snaplen)
	: clock_(clock), lookups_(std::move(lookups)), snaplen_(snaplen)
{
	comment_.reserve(256);
}

const std::string &RecordConverter::device_name(std::uint32_t ifindex, std::uint64_t now_ns)
{
	// if_indextoname() costs a socket and an ioctl: once per device and
	// second, not once per packet.
	if (now_ns - names_since_ns_ > kNameCacheLifetimeNs) {
		names_.clear();
		names_since_ns_ = now_ns;
	}
	auto [it, inserted] = names_.try_emplace(ifindex);
	if (inserted) {
		char name[IF_NAMESIZE] = {};
		if (::if_indextoname(ifindex, name))
			it->second = name;
	}
	return it->second;
}

std::optional<SkbRecord> RecordConverter::convert(std::span<const std::uint8_t> record)
{
	const SkbRecord *out = convert_in_place(record);
	if (!out)
		return std::nullopt;
	return *out;
}

bool RecordConverter::convert_packet(std::span<const std::uint8_t> record, PacketView &out, bool &unreadable) const
{
	if (!bpf::event_to_packet(record, clock_, out, false))
		return false;
	// Only the field read below: the whole header is event_to_packet's.
	capx_u32 flags;
	std::memcpy(&flags, record.data() + offsetof(capx_event, flags), sizeof(flags));
	unreadable = (flags & CAPX_EVENT_TRUNCATED) &&
		     out.data.size() < std::min<std::uint32_t>(snaplen_, CAPX_PACKET_BUF_SIZE);
	return true;
}

const SkbRecord *RecordConverter::convert_in_place(std::span<const std::uint8_t> record)
{
	SkbRecord &out = record_;
	if (!bpf::event_to_packet(record, clock_, out.packet, lookups_.describe))
		return nullptr;
	// Only the fields read below: the whole header is event_to_packet's.
	capx_u32 flags;
	std::memcpy(&flags, record.data() + offsetof(capx_event, flags), sizeof(flags));
	out.l3 = (flags & CAPX_EVENT_L3) != 0;
	out.unreadable_bytes = (flags & CAPX_EVENT_TRUNCATED) &&
			       out.packet.data.size() < std::min<std::uint32_t>(snaplen_, CAPX_PACKET_BUF_SIZE);

	// Built with to_chars, not fmt: this runs for every packet, and fmt's
	// per-field parsing cost several times the rest of the conversion.
	comment_.clear();
	PacketMeta &m = out.packet.meta;
	if (!lookups_.describe)
		return &out; // meta left empty by event_to_packet
	capx_event e;
	std::memcpy(&e, record.data(), sizeof(e));
	auto separate = [this] {
		if (!comment_.empty())
			comment_ += ' ';
	};
	if (m.ifindex) {
		comment_ += "dev=";
		append_number(comment_, *m.ifindex);
		if (lookups_.own_netns != 0 && m.netns == lookups_.own_netns) {
			const std::string &name = device_name(*m.ifindex, e.timestamp_ns);
			if (!name.empty()) {
				comment_ += '(';
				comment_ += name;
				comment_ += ')';
			}
		}
	}
	if (m.netns) {
		separate();
		comment_ += "netns=";
		append_number(comment_, *m.netns);
	}
	if (m.cpu) {
		separate();
		comment_ += "cpu=";
		append_number(comment_, *m.cpu);
	}
	if (m.pid) {
		separate();
		comment_ += "pid=";
		append_number(comment_, *m.pid);
		comment_ += " comm=";
		comment_ += m.comm;
	}
	if (m.packet_id) {
		separate();
		comment_ += "skb=";
		append_hex(comment_, *m.packet_id);
	}
	if (m.drop_reason) {
		separate();
		comment_ += "drop=";
		std::string name = lookups_.drop_reason_name ? lookups_.drop_reason_name(*m.drop_reason) : std::string();
		if (name.empty())
			append_number(comment_, *m.drop_reason);
		else
			comment_ += short_drop_reason(name);
	}
	if ((e.flags & CAPX_EVENT_HAS_STACK) && lookups_.stack) {
		auto addresses = lookups_.stack(e.stack_id);
		bool first = true, in_probe = true;
		for (std::uint64_t address : addresses) {
			std::string symbol = lookups_.symbol ? lookups_.symbol(address) : std::string();
			// The innermost frames are capx's own program and the
			// kernel's code that called it: not where the packet was.
			if (in_probe && is_probe_frame(symbol))
				continue;
			in_probe = false;
			if (first) {
				separate();
				comment_ += "stack: ";
				first = false;
			} else {
				comment_ += ';';
			}
			if (symbol.empty() || symbol.starts_with("0x"))
				append_hex(comment_, address);
			else
				comment_ += symbol;
		}
	}

	// The text says all of this; describe_meta() would say it again.
	m = PacketMeta{};
	m.comment = comment_;
	return &out;
}

} // namespace capx::skb
