// SPDX-License-Identifier: GPL-2.0-only
#include "capture/skb/skb_record.hpp"

#include <net/if.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstddef>
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
	stack_.reserve(256);
}

std::string_view RecordConverter::device_name(std::uint32_t ifindex, std::uint64_t now_ns)
{
	// if_indextoname() costs a socket and an ioctl: once per device and
	// second, not once per packet. The names themselves stay (interned):
	// packets handed over in one batch may still point at them.
	if (now_ns - names_since_ns_ > kNameCacheLifetimeNs) {
		names_.clear();
		names_since_ns_ = now_ns;
	}
	auto [it, inserted] = names_.try_emplace(ifindex);
	if (inserted) {
		char name[IF_NAMESIZE] = {};
		if (::if_indextoname(ifindex, name))
			it->second = *interned_.emplace(name).first;
	}
	return it->second;
}

std::optional<SkbRecord> RecordConverter::convert(std::span<const std::uint8_t> record)
{
	SkbRecord out;
	if (!convert(record, out.packet, out.facts))
		return std::nullopt;
	return out;
}

bool RecordConverter::convert(std::span<const std::uint8_t> record, PacketView &out, RecordFacts &facts)
{
	capx_event e;
	if (!bpf::event_to_packet(record, clock_, out, &e))
		return false;
	facts.l3 = (e.flags & CAPX_EVENT_L3) != 0;
	facts.unreadable_bytes = (e.flags & CAPX_EVENT_TRUNCATED) &&
				 out.data.size() < std::min<std::uint32_t>(snaplen_, CAPX_PACKET_BUF_SIZE);

	PacketMeta &m = out.meta;
	// What capx skb has always said: the task is whatever ran when the
	// packet passed (often softirq borrowing it), so its pid and comm, not
	// the thread.
	m.tid.reset();
	if (e.flags & CAPX_EVENT_HAS_PACKET_ID)
		m.skb = e.packet_id;
	if (m.ifindex && lookups_.own_netns != 0 && m.netns == lookups_.own_netns)
		m.ifname = device_name(*m.ifindex, e.timestamp_ns);
	if (m.drop_reason && lookups_.drop_reason_name)
		m.drop_reason_name = short_drop_reason(lookups_.drop_reason_name(*m.drop_reason));
	if ((e.flags & CAPX_EVENT_HAS_STACK) && lookups_.stack) {
		stack_.clear();
		bool in_probe = true;
		for (std::uint64_t address : lookups_.stack(e.stack_id)) {
			std::string symbol = lookups_.symbol ? lookups_.symbol(address) : std::string();
			// The innermost frames are capx's own program and the
			// kernel's code that called it: not where the packet was.
			if (in_probe && is_probe_frame(symbol))
				continue;
			in_probe = false;
			if (!stack_.empty())
				stack_ += ';';
			if (symbol.empty() || symbol.starts_with("0x"))
				append_hex(stack_, address);
			else
				stack_ += symbol;
		}
		m.stack = stack_;
	}
	return true;
}

} // namespace capx::skb
