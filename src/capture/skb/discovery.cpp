// SPDX-License-Identifier: GPL-2.0-only
#include "capture/skb/discovery.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "bpf/btf.hpp"
#include "bpf/features.hpp"
#include "bpf/kallsyms.hpp"
#include "capture/skb/tracefs.hpp"

namespace capx::skb {

AttachRules AttachRules::current()
{
	AttachRules rules;
	rules.fentry_feature_ = bpf::probe_feature(bpf::Feature::Fentry);
	rules.kprobe_feature_ = bpf::probe_feature(bpf::Feature::Kprobe);
	if (rules.fentry_feature_)
		rules.ftrace_functions_ = tracefs::available_filter_functions();
	if (rules.kprobe_feature_) {
		rules.kprobe_blacklist_ = tracefs::kprobe_blacklist();
		if (const auto &syms = bpf::Kallsyms::kernel(); syms)
			rules.kallsyms_ = &*syms;
	}
	return rules;
}

[[nodiscard]] Result<void> AttachRules::fentry(std::string_view function) const
{
	if (!fentry_feature_)
		return fentry_feature_;
	if (ftrace_functions_ && !ftrace_functions_->contains(function))
		return fail(fmt::format("{} is not in available_filter_functions (notrace or inlined)", function));
	return {};
}

[[nodiscard]] Result<void> AttachRules::kprobe(std::string_view function) const
{
	if (!kprobe_feature_)
		return kprobe_feature_;
	if (kallsyms_ && !kallsyms_->has_function(function))
		return fail(fmt::format("{} is not in /proc/kallsyms (inlined into its callers)", function));
	if (kprobe_blacklist_ && kprobe_blacklist_->contains(function))
		return fail(fmt::format("{} is in the kprobe blacklist", function));
	return {};
}

std::vector<FunctionTarget> discover_functions(const bpf::KernelBtf &btf, const AttachRules &rules)
{
	std::vector<FunctionTarget> out;
	for (auto &f : btf.functions_with_pointer("sk_buff")) {
		FunctionTarget t;
		t.fentry = rules.fentry(f.name).has_value();
		t.kprobe = rules.kprobe(f.name).has_value();
		t.name = std::move(f.name);
		t.skb_args = std::move(f.args);
		out.push_back(std::move(t));
	}
	return out;
}

TracepointTargets discover_tracepoints(const bpf::KernelBtf &btf)
{
	TracepointTargets result;
	auto events = tracefs::events();
	result.subsystems_known = events.has_value();
	std::map<std::string, std::vector<std::string>, std::less<>> subsystems;
	if (events)
		for (auto &e : *events)
			subsystems[e.name].push_back(e.subsystem);

	for (auto &tp : btf.tracepoints_with_pointer("sk_buff")) {
		auto it = subsystems.find(tp.name);
		if (it == subsystems.end()) {
			result.tracepoints.push_back({{}, tp.name, tp.args});
			continue;
		}
		for (const auto &subsystem : it->second)
			result.tracepoints.push_back({subsystem, tp.name, tp.args});
	}
	std::sort(result.tracepoints.begin(), result.tracepoints.end(), [](const auto &a, const auto &b) {
		return a.subsystem != b.subsystem ? a.subsystem < b.subsystem : a.name < b.name;
	});
	return result;
}

} // namespace capx::skb
