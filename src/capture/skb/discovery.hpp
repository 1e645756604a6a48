// SPDX-License-Identifier: GPL-2.0-only
// What `capx skb` can probe on this kernel: functions and tracepoints with
// an sk_buff argument (from BTF), and whether fentry or a kprobe can attach
// to a function here. `capx list` prints it; resolve_probe() asks the same
// AttachRules, so the list and the attach decision never disagree.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace capx::bpf {
class KernelBtf;
class Kallsyms;
} // namespace capx::bpf

namespace capx::skb {

// Whether fentry or a kprobe can attach to a function here, with the
// reason when not. The kernel-wide facts (feature probes, ftrace's
// available_filter_functions, kallsyms, the kprobe blacklist) are read
// once when the rules are made.
class AttachRules {
public:
	static AttachRules current();

	// fentry/fexit: the Fentry feature, and the function in
	// available_filter_functions where tracefs is readable (BPF trampolines
	// attach through ftrace; notrace and inlined functions are missing).
	[[nodiscard]] Result<void> fentry(std::string_view function) const;
	// kprobe: the kprobe PMU, the function in /proc/kallsyms (not inlined
	// away) and, where readable, not in the kprobe blacklist.
	[[nodiscard]] Result<void> kprobe(std::string_view function) const;

private:
	AttachRules() = default;
	Result<void> fentry_feature_;
	Result<void> kprobe_feature_;
	std::optional<std::set<std::string, std::less<>>> ftrace_functions_;
	std::optional<std::set<std::string, std::less<>>> kprobe_blacklist_;
	const bpf::Kallsyms *kallsyms_ = nullptr;
};

struct FunctionTarget {
	std::string name;
	std::vector<unsigned> skb_args; // 1-based
	bool fentry = false;
	bool kprobe = false;
};

struct TracepointTarget {
	std::string subsystem; // empty when tracefs is not readable
	std::string name;
	std::vector<unsigned> skb_args; // 1-based, the hidden __data not counted
};

// Kernel functions (vmlinux BTF) with a `struct sk_buff *` argument, by name.
std::vector<FunctionTarget> discover_functions(const bpf::KernelBtf &btf, const AttachRules &rules);

struct TracepointTargets {
	std::vector<TracepointTarget> tracepoints; // by SUBSYS:NAME (by NAME without tracefs)
	bool subsystems_known = false;             // tracefs was readable
};
// BTF tracepoints (btf_trace_NAME) with a `struct sk_buff *` argument. One
// entry per subsystem that has the name in tracefs; tracepoints without a
// tracefs event (DECLARE_TRACE) keep an empty subsystem.
TracepointTargets discover_tracepoints(const bpf::KernelBtf &btf);

} // namespace capx::skb
