// SPDX-License-Identifier: GPL-2.0-only
// capx list: where `capx skb -f` can look. `functions` lists the kernel
// functions with a `struct sk_buff *` argument, which argument it is and
// which attach types this kernel allows for it; `tracepoints` lists the BTF
// tracepoints with one. Both take an optional regular expression.
//
// Output is columns for people and plain lines for scripts: the header
// line is printed only when stdout is a terminal, like ls(1) changing its
// format for pipes, so `capx list functions | awk '{print $1}'` gets names
// only (bpftrace -l and tcpdump -D print no header either).
#include <unistd.h>

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bpf/btf.hpp"
#include "bpf/features.hpp"
#include "capture/skb/discovery.hpp"
#include "cli/command.hpp"

namespace capx::cli {

namespace {

struct ListOptions {
	std::string pattern;
};

[[nodiscard]] Result<std::optional<std::regex>> compile_pattern(const std::string &pattern)
{
	if (pattern.empty())
		return std::optional<std::regex>();
	try {
		return std::optional<std::regex>(std::regex(pattern, std::regex::ECMAScript));
	} catch (const std::regex_error &e) {
		return fail_usage(fmt::format("bad regular expression '{}': {}", pattern, e.what()),
				  "the pattern is an ECMAScript regex searched in each name, e.g. '^ip6?_rcv'");
	}
}

bool matches(const std::optional<std::regex> &re, const std::string &text)
{
	return !re || std::regex_search(text, *re);
}

std::string join_args(const std::vector<unsigned> &args)
{
	std::string out;
	for (unsigned a : args)
		out += (out.empty() ? "" : ",") + std::to_string(a);
	return out;
}

bool stdout_is_terminal()
{
	return ::isatty(STDOUT_FILENO) == 1;
}

std::string what_matches(const std::string &pattern)
{
	return pattern.empty() ? std::string() : fmt::format(" matches '{}'", pattern);
}

[[nodiscard]] Result<void> list_functions(const ListOptions &o)
{
	auto re = compile_pattern(o.pattern);
	if (!re)
		return std::unexpected(re.error());
	auto btf = bpf::KernelBtf::load();
	if (!btf)
		return std::unexpected(btf.error());
	auto rules = skb::AttachRules::current();

	struct Row {
		std::string name, args, attach;
	};
	std::vector<Row> rows;
	std::size_t width = 8;
	for (auto &f : skb::discover_functions(*btf, rules)) {
		if (!matches(*re, f.name))
			continue;
		std::string attach;
		if (f.fentry)
			attach = "fentry,fexit";
		if (f.kprobe)
			attach += attach.empty() ? "kprobe" : ",kprobe";
		width = std::max(width, f.name.size());
		rows.push_back({std::move(f.name), join_args(f.skb_args), attach.empty() ? "-" : attach});
	}
	if (rows.empty())
		return fail(fmt::format("no kernel function with an sk_buff argument{}", what_matches(o.pattern)));
	// Whether fentry works is found by loading a program, which needs
	// privileges: say so rather than let "-" look like the kernel's answer.
	if (::geteuid() != 0 && !bpf::probe_feature(bpf::Feature::Fentry))
		spdlog::info("not root: fentry could not be probed, so no function is shown with fentry,fexit");
	if (stdout_is_terminal())
		fmt::print("{:<{}}  {:<5}  {}\n", "FUNCTION", width, "ARG", "ATTACH");
	for (const auto &r : rows)
		fmt::print("{:<{}}  {:<5}  {}\n", r.name, width, r.args, r.attach);
	return {};
}

[[nodiscard]] Result<void> list_tracepoints(const ListOptions &o)
{
	auto re = compile_pattern(o.pattern);
	if (!re)
		return std::unexpected(re.error());
	auto btf = bpf::KernelBtf::load();
	if (!btf)
		return std::unexpected(btf.error());
	auto found = skb::discover_tracepoints(*btf);

	struct Row {
		std::string name, args;
	};
	std::vector<Row> rows;
	std::size_t width = 10;
	for (const auto &tp : found.tracepoints) {
		std::string full = tp.subsystem.empty() ? tp.name : fmt::format("{}:{}", tp.subsystem, tp.name);
		// '^netif' finds net:netif_receive_skb as well as '^net:'.
		if (!matches(*re, full) && !matches(*re, tp.name))
			continue;
		width = std::max(width, full.size());
		rows.push_back({std::move(full), join_args(tp.skb_args)});
	}
	if (rows.empty())
		return fail(fmt::format("no tracepoint with an sk_buff argument{}", what_matches(o.pattern)));
	if (!found.subsystems_known)
		spdlog::info("tracefs is not mounted: tracepoint subsystems are unknown, names are listed alone "
			     "(-f tp:SUBSYS:NAME then accepts any SUBSYS)");
	if (stdout_is_terminal())
		fmt::print("{:<{}}  {}\n", "TRACEPOINT", width, "ARG");
	for (const auto &r : rows)
		fmt::print("{:<{}}  {}\n", r.name, width, r.args);
	return {};
}

} // namespace

void add_list_command(CLI::App &parent, CommandList &commands)
{
	auto *app = parent.add_subcommand(
		"list", "List what 'capx skb -f' can probe: 'list functions [REGEX]', 'list tracepoints [REGEX]'");
	app->require_subcommand(1);
	auto o = std::make_shared<ListOptions>();

	auto *functions = app->add_subcommand(
		"functions", "Kernel functions with a struct sk_buff * argument: NAME, argument index (1-based), "
			     "attach types this kernel allows (fentry,fexit,kprobe or -)");
	functions->add_option("regex", o->pattern, "Only names matching this regular expression (searched)")
		->type_name("REGEX");
	auto *tracepoints = app->add_subcommand(
		"tracepoints", "BTF tracepoints with a struct sk_buff * argument: SUBSYS:NAME and argument index");
	tracepoints->add_option("regex", o->pattern,
				"Only tracepoints whose SUBSYS:NAME or NAME matches this regular expression")
		->type_name("REGEX");

	commands.push_back({app, [o, functions]() -> Result<void> {
				    return functions->parsed() ? list_functions(*o) : list_tracepoints(*o);
			    }});
}

} // namespace capx::cli
