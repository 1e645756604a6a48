// SPDX-License-Identifier: GPL-2.0-only
#include "capture/skb/probe_spec.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bpf/btf.hpp"
#include "bpf/kallsyms.hpp"
#include "capture/probe_list.hpp"
#include "capture/skb/discovery.hpp"
#include "capture/skb/tracefs.hpp"

namespace capx::skb {

namespace {

constexpr std::string_view kGrammarHint =
	"-f takes FUNC[@N], fentry:FUNC[@N], fexit:FUNC[@N], kprobe:FUNC[@N], tracepoint:SUBSYS:NAME "
	"(tp:SUBSYS:NAME) or raw_tp:NAME, comma-separated";
constexpr std::string_view kTracepointHint =
	"trace a tracepoint instead, e.g. -f tp:net:netif_receive_skb ('capx list tracepoints' lists them)";

bool is_ident_char(char c, bool dot_ok)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       (dot_ok && c == '.');
}

// Kernel symbols are C identifiers; the compiler's clones add dots
// (tcp_v4_rcv.cold), which kallsyms shows and a kprobe may name.
bool is_symbol(std::string_view s, bool dot_ok = true)
{
	if (s.empty() || (s.front() >= '0' && s.front() <= '9'))
		return false;
	return std::all_of(s.begin(), s.end(), [dot_ok](char c) { return is_ident_char(c, dot_ok); });
}

struct Prefix {
	std::string_view text;
	ProbeKind kind;
};
constexpr Prefix kPrefixes[] = {
	{"fentry", ProbeKind::Fentry},  {"fexit", ProbeKind::Fexit}, {"kprobe", ProbeKind::Kprobe},
	{"tracepoint", ProbeKind::TpBtf}, {"tp", ProbeKind::TpBtf},  {"raw_tp", ProbeKind::RawTp},
};

// "NAME@N" -> NAME and N.
[[nodiscard]] Result<void> split_argument(std::string_view text, std::string_view &name, std::optional<unsigned> &arg)
{
	std::size_t at = name.find('@');
	if (at == std::string_view::npos)
		return {};
	std::string_view number = name.substr(at + 1);
	name = name.substr(0, at);
	if (number.empty())
		return fail_usage(fmt::format("probe '{}' has no argument number after '@'", text),
				  "N is the 1-based argument holding the struct sk_buff *, e.g. ip_rcv@1");
	unsigned n = 0;
	auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
	if (ec != std::errc() || ptr != number.data() + number.size())
		return fail_usage(fmt::format("probe '{}': '{}' is not an argument number", text, number),
				  "N is the 1-based argument holding the struct sk_buff *, e.g. ip_rcv@1");
	if (n == 0)
		return fail_usage(fmt::format("probe '{}': arguments are numbered from 1", text),
				  "N is the 1-based argument holding the struct sk_buff *, e.g. ip_rcv@1");
	arg = n;
	return {};
}

[[nodiscard]] Result<ProbeSpec> parse_one(std::string_view text)
{
	ProbeSpec spec;
	spec.text = std::string(text);
	std::string_view rest = text;

	if (std::size_t colon = text.find(':'); colon != std::string_view::npos) {
		std::string_view type = text.substr(0, colon);
		auto prefix = std::find_if(std::begin(kPrefixes), std::end(kPrefixes),
					   [type](const Prefix &p) { return p.text == type; });
		if (prefix == std::end(kPrefixes)) {
			// "net:netif_receive_skb" is a tracepoint missing its tp:
			std::string_view after = text.substr(colon + 1);
			std::string hint = is_symbol(type, false) && is_symbol(after.substr(0, after.find('@')))
						   ? fmt::format("did you mean tp:{}?", text)
						   : std::string(kGrammarHint);
			return fail_usage(fmt::format("unknown probe type '{}' in '{}'", type, text), std::move(hint));
		}
		spec.kind = prefix->kind;
		rest = text.substr(colon + 1);
	}

	std::string_view name = rest;
	if (auto r = split_argument(text, name, spec.arg); !r)
		return std::unexpected(r.error());

	if (spec.kind == ProbeKind::TpBtf) {
		std::size_t colon = name.find(':');
		if (colon == std::string_view::npos || name.find(':', colon + 1) != std::string_view::npos)
			return fail_usage(fmt::format("probe '{}' needs SUBSYS:NAME", text),
					  "e.g. tracepoint:net:netif_receive_skb or tp:skb:kfree_skb");
		std::string_view subsystem = name.substr(0, colon);
		name = name.substr(colon + 1);
		if (subsystem.empty())
			return fail_usage(fmt::format("probe '{}' has no tracepoint subsystem", text),
					  "e.g. tracepoint:net:netif_receive_skb or tp:skb:kfree_skb");
		if (!is_symbol(subsystem, false))
			return fail_usage(fmt::format("bad tracepoint subsystem '{}' in probe '{}'", subsystem, text));
		spec.subsystem = std::string(subsystem);
	}

	bool function = spec.kind != ProbeKind::TpBtf && spec.kind != ProbeKind::RawTp;
	if (name.empty())
		return fail_usage(fmt::format("probe '{}' has no {} name", text, function ? "function" : "tracepoint"),
				  std::string(kGrammarHint));
	// Tracepoint names are plain identifiers; only functions have clones.
	if (!is_symbol(name, function))
		return fail_usage(
			fmt::format("bad {} name '{}' in probe '{}'", function ? "function" : "tracepoint", name, text),
			std::string(kGrammarHint));
	spec.name = std::string(name);
	return spec;
}

std::string display_name(ProbeKind kind, const std::string &subsystem, const std::string &target)
{
	if (kind == ProbeKind::TpBtf)
		return subsystem.empty() ? target : fmt::format("{}:{}", subsystem, target);
	return fmt::format("{}@{}", target, probe_kind_name(kind));
}

std::vector<std::string> names_of(const std::vector<bpf::KernelBtf::PointerArguments> &list)
{
	std::vector<std::string> names;
	names.reserve(list.size());
	for (const auto &f : list)
		names.push_back(f.name);
	return names;
}

std::string did_you_mean(const std::vector<std::string> &names)
{
	std::string joined;
	for (const auto &n : names)
		joined += (joined.empty() ? "" : ", ") + n;
	return fmt::format("did you mean {}?", joined);
}

Error unknown_function(const ProbeSpec &spec, const bpf::KernelBtf &btf)
{
	auto close = closest_names(spec.name, names_of(btf.functions_with_pointer("sk_buff")));
	std::string hint = close.empty() ? "'capx list functions' lists the kernel functions with an sk_buff argument"
					 : did_you_mean(close);
	if (const auto &syms = bpf::Kallsyms::kernel(); syms && syms->has_function(spec.name))
		hint = fmt::format("{} is in /proc/kallsyms but has no BTF prototype (a module function?); capx needs "
				   "one to find the sk_buff argument",
				   spec.name);
	return Error{fmt::format("no kernel function '{}'", spec.name), std::move(hint), ExitStatus::Usage};
}

// A candidate tracepoint as the user would write it: raw_tp:NAME, or
// tp:SUBSYS:NAME with the subsystem tracefs knows (BTF names no subsystem;
// without tracefs, the one the user gave).
std::string tracepoint_spelling(const ProbeSpec &spec, const std::string &name)
{
	if (spec.kind == ProbeKind::RawTp)
		return fmt::format("raw_tp:{}", name);
	std::string subsystem = spec.subsystem;
	if (auto subsystems = tracefs::subsystems_of(name); subsystems && !subsystems->empty())
		subsystem = subsystems->front();
	return subsystem.empty() ? name : fmt::format("tp:{}:{}", subsystem, name);
}

Error unknown_tracepoint(const ProbeSpec &spec, const bpf::KernelBtf &btf)
{
	auto close = closest_names(spec.name, names_of(btf.tracepoints_with_pointer("sk_buff")));
	for (auto &name : close)
		name = tracepoint_spelling(spec, name);
	std::string what = spec.subsystem.empty() ? spec.name : fmt::format("{}:{}", spec.subsystem, spec.name);
	std::string hint = close.empty() ? "'capx list tracepoints' lists the tracepoints with an sk_buff argument"
					 : did_you_mean(close);
	return Error{fmt::format("no tracepoint '{}' with a BTF prototype", what), std::move(hint), ExitStatus::Usage};
}

[[nodiscard]] Result<void> choose_function_attach(ResolvedProbe &probe, ProbeKind asked)
{
	const std::string &function = probe.target;
	AttachRules rules = AttachRules::current();
	switch (asked) {
	case ProbeKind::Fentry:
	case ProbeKind::Fexit:
		// fexit attaches through the same BPF trampoline as fentry
		// (bpf_trampoline_update() in kernel/bpf/trampoline.c), so the
		// fentry probe's answer is fexit's too; say why it names fentry.
		if (auto r = rules.fentry(function); !r)
			return fail(fmt::format("cannot attach {}:{}: {}{}", probe_kind_name(asked), function,
						asked == ProbeKind::Fexit ? "fexit uses fentry's trampoline, and " : "",
						r.error().message),
				    rules.kprobe(function) ? fmt::format("try kprobe:{}", function)
							   : std::string(kTracepointHint));
		probe.kind = asked;
		return {};
	case ProbeKind::Kprobe:
		if (auto r = rules.kprobe(function); !r)
			return fail(fmt::format("cannot attach kprobe:{}: {}", function, r.error().message),
				    rules.fentry(function) ? fmt::format("try fentry:{}", function)
							   : std::string(kTracepointHint));
		probe.kind = ProbeKind::Kprobe;
		return {};
	default:
		break;
	}
	// FUNC without a type: fentry (cheaper, and fexit's sibling), else a
	// kprobe, decided now from what the kernel allows; a fentry that still
	// fails at load or attach falls back in ProbeSet (kprobe_fallback).
	auto fentry = rules.fentry(function);
	auto kprobe = rules.kprobe(function);
	if (fentry) {
		probe.kind = ProbeKind::Fentry;
		probe.kprobe_fallback = kprobe.has_value();
		return {};
	}
	if (kprobe) {
		spdlog::info("{}: fentry is not possible here ({}); using a kprobe", function, fentry.error().message);
		probe.kind = ProbeKind::Kprobe;
		return {};
	}
	return fail(fmt::format("cannot trace {} here: fentry: {}; kprobe: {}", function, fentry.error().message,
				kprobe.error().message),
		    std::string(kTracepointHint));
}

// A hint for a bad or missing @N: where the sk_buff really is, or where
// to look for a hook that has one.
Error argument_error(Error error, const ProbeSpec &spec, const Result<unsigned> &only)
{
	if (!error.hint.empty())
		return error;
	if (spec.arg && only)
		error.hint = fmt::format("the struct sk_buff * of {} is argument {}", spec.name, *only);
	else if (!spec.arg)
		error.hint = fmt::format("'capx list {}' lists the hooks with an sk_buff argument",
					 spec.kind == ProbeKind::TpBtf || spec.kind == ProbeKind::RawTp ? "tracepoints"
													: "functions");
	return error;
}

std::optional<unsigned> zero_based(std::optional<unsigned> one_based)
{
	if (!one_based)
		return std::nullopt;
	return *one_based - 1;
}

[[nodiscard]] Result<ResolvedProbe> resolve_function(const ProbeSpec &spec, const bpf::KernelBtf &btf)
{
	if (!btf.has_function(spec.name))
		return std::unexpected(unknown_function(spec, btf));
	auto arg = btf.pointer_argument(spec.name, "sk_buff", spec.arg);
	if (!arg)
		return std::unexpected(argument_error(arg.error(), spec, btf.pointer_argument(spec.name, "sk_buff")));
	ResolvedProbe probe;
	probe.target = spec.name;
	probe.skb_arg = *arg - 1;
	probe.drop_reason_arg = zero_based(btf.function_enum_argument(spec.name, "skb_drop_reason"));
	probe.spec_text = spec.text;
	if (auto r = choose_function_attach(probe, spec.kind); !r)
		return std::unexpected(r.error());
	probe.display_name = display_name(probe.kind, {}, probe.target);
	return probe;
}

[[nodiscard]] Result<ResolvedProbe> resolve_tracepoint(const ProbeSpec &spec, const bpf::KernelBtf &btf)
{
	if (!btf.has_tracepoint(spec.name))
		return std::unexpected(unknown_tracepoint(spec, btf));
	// Without tracefs the subsystem cannot be checked (BTF does not record
	// it); tp_btf attaches by name alone, so the spec is taken as written.
	// A tracepoint declared without an event (DECLARE_TRACE) has no
	// tracefs directory either.
	if (spec.kind == ProbeKind::TpBtf) {
		if (auto subsystems = tracefs::subsystems_of(spec.name);
		    subsystems && !subsystems->empty() &&
		    std::find(subsystems->begin(), subsystems->end(), spec.subsystem) == subsystems->end())
			return fail_usage(fmt::format("no tracepoint '{}:{}'", spec.subsystem, spec.name),
					  fmt::format("{} is in {}: -f tp:{}:{}", spec.name, subsystems->front(),
						      subsystems->front(), spec.name));
	}
	auto arg = btf.tracepoint_pointer_argument(spec.name, "sk_buff", spec.arg);
	if (!arg)
		return std::unexpected(
			argument_error(arg.error(), spec, btf.tracepoint_pointer_argument(spec.name, "sk_buff")));
	ResolvedProbe probe;
	probe.kind = spec.kind;
	probe.target = spec.name;
	probe.skb_arg = *arg - 1;
	probe.drop_reason_arg = zero_based(btf.tracepoint_enum_argument(spec.name, "skb_drop_reason"));
	probe.spec_text = spec.text;
	probe.display_name = display_name(probe.kind, spec.subsystem, probe.target);
	return probe;
}

} // namespace

const char *probe_kind_name(ProbeKind kind)
{
	switch (kind) {
	case ProbeKind::Auto:
		return "auto";
	case ProbeKind::Fentry:
		return "fentry";
	case ProbeKind::Fexit:
		return "fexit";
	case ProbeKind::Kprobe:
		return "kprobe";
	case ProbeKind::TpBtf:
		return "tp_btf";
	case ProbeKind::RawTp:
		return "raw_tp";
	}
	return "?";
}

[[nodiscard]] Result<std::vector<ProbeSpec>> parse_probe_specs(const std::vector<std::string> &arguments)
{
	return parse_probe_list<ProbeSpec>(arguments, kGrammarHint, parse_one);
}

[[nodiscard]] Result<ResolvedProbe> resolve_probe(const ProbeSpec &spec, const bpf::KernelBtf &btf)
{
	switch (spec.kind) {
	case ProbeKind::TpBtf:
	case ProbeKind::RawTp:
		return resolve_tracepoint(spec, btf);
	default:
		return resolve_function(spec, btf);
	}
}

ResolvedProbe as_kprobe(const ResolvedProbe &probe)
{
	ResolvedProbe k = probe;
	k.kind = ProbeKind::Kprobe;
	k.kprobe_fallback = false;
	k.display_name = display_name(ProbeKind::Kprobe, {}, probe.target);
	return k;
}

} // namespace capx::skb
