// SPDX-License-Identifier: GPL-2.0-only
// What tracefs says about tracing, where it is mounted and readable:
// tracepoint subsystems, the functions ftrace (and so fentry) can hook, and
// the functions kprobes refuse. Every answer is optional: capx never mounts
// tracefs, and without it the BTF answers alone are used.
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace capx::skb::tracefs {

// The tracefs directory with an events/ subdirectory: /sys/kernel/tracing,
// else /sys/kernel/debug/tracing (older kernels, debugfs mounts).
std::optional<std::filesystem::path> root();

// The subsystems (events/SUBSYS/NAME) that have a tracepoint NAME, sorted;
// nullopt when tracefs is not readable.
std::optional<std::vector<std::string>> subsystems_of(std::string_view tracepoint);

// Every tracepoint as "SUBSYS:NAME" pairs; nullopt without tracefs.
struct Event {
	std::string subsystem;
	std::string name;
};
std::optional<std::vector<Event>> events();

// The functions in available_filter_functions (what ftrace, and so
// fentry/fexit trampolines, can attach to); nullopt when not readable.
std::optional<std::set<std::string, std::less<>>> available_filter_functions();

// The functions in the kprobe blacklist (debugfs kprobes/blacklist, see
// Documentation/trace/kprobes.rst); nullopt when not readable.
std::optional<std::set<std::string, std::less<>>> kprobe_blacklist();

// The word in column `column` (0-based, blank-separated) of every line
// that has one: how the two lists above are read.
std::set<std::string, std::less<>> column_of(std::string_view text, int column);

} // namespace capx::skb::tracefs
