// SPDX-License-Identifier: GPL-2.0-only
// The verifier budget: every program of every BPF capture point, loaded on
// this kernel with the heaviest tcpdump expressions, must be verified within
// a fifth of the verifier's limit (bpf::kVerifierInsnLimit). A program near
// the limit on one kernel build is refused on another: the same capx mbuf
// object loaded on one 6.18 build and hit the limit on the next.
//
//	verifier-budget [--limit N] [--corpus FILE] [--top N] [--quick]
//	                [--points skb,mbuf,xdp]
//
// Loads through the capture points' own loaders (skb::ProbeSet::verify,
// mbuf::UprobeSet::verify, xdp::XdpProbes::verify), configured as capx configures them, and prints
// per program the worst bpf_prog_info.verified_insns and the expression
// that caused it. Exit 0 when every program is within the limit, 1 when one
// is over or does not load, 77 (skip) without root. A probe kind this
// kernel refuses to load at all (fentry/fexit on a kernel without
// trampolines) is reported as not measured, with the reason.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bpf/btf.hpp"
#include "bpf/features.hpp"
#include "bpf/inject.hpp"
#include "capture/mbuf/mbuf_filter.hpp"
#include "capture/mbuf/mbuf_layout.hpp"
#include "capture/mbuf/uprobe_set.hpp"
#include "capture/skb/probe_set.hpp"
#include "capture/skb/probe_spec.hpp"
#include "capture/skb/skb_filter.hpp"
#include "capture/xdp/xdp_filter.hpp"
#include "capture/xdp/xdp_probes.hpp"
#include "core/log.hpp"
#include "core/packet.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/ebpf_translator.hpp"

using namespace capx;

namespace {

// What the issue names as heavy: protochain (unrolled loops), long `or`
// chains, stacked VLAN and MPLS headers, indirect loads behind the TCP
// header; and capturing everything (no filter: the copy paths alone).
const std::vector<std::string> kHeavy = {
	"",
	"ip6 protochain 58",
	"protochain 6 or ip6 protochain 17",
	"vlan and vlan and ip",
	"vlan 10 and vlan 20 and tcp port 80",
	"mpls 1000 and mpls 2000 and mpls 3000 and tcp",
	"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
	"(tcp and tcp[((tcp[12:1] & 0xf0) >> 2)] = 0x16) or (udp and udp[8:2] = 0x0100)",
	"host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3 or host 10.0.0.4 or host 10.0.0.5 or host 10.0.0.6 or "
	"host 10.0.0.7 or host 10.0.0.8 or host 10.0.0.9 or host 10.0.0.10 or host 10.0.0.11 or host 10.0.0.12",
	"port 1 or port 2 or port 3 or port 4 or port 5 or port 6 or port 7 or port 8 or port 9 or port 10 or "
	"port 11 or port 12 or port 13 or port 14 or port 15 or port 16",
	"ip6 and tcp and (port 80 or port 443) and ip6[6] = 6",
};
// Under TCG every load is ~20x slower: the vm matrix takes fewer.
const std::vector<std::string> kQuick = {
	"",
	"ip6 protochain 58",
	"protochain 6 or ip6 protochain 17",
	"vlan and vlan and ip",
	"mpls 1000 and mpls 2000 and mpls 3000 and tcp",
	"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
	"port 1 or port 2 or port 3 or port 4 or port 5 or port 6 or port 7 or port 8 or port 9 or port 10 or "
	"port 11 or port 12 or port 13 or port 14 or port 15 or port 16",
};

struct Options {
	std::uint32_t limit = bpf::kVerifierInsnLimit / 5;
	std::string corpus;
	std::size_t top = 8;
	bool quick = false;
	std::string points = "skb,mbuf,xdp"; // the capture points measured
};

// The `top` corpus expressions with the longest Ethernet translation.
std::vector<std::string> heaviest_of(const std::string &path, std::size_t top)
{
	std::ifstream in(path);
	std::vector<std::pair<std::size_t, std::string>> sized;
	for (std::string line; std::getline(in, line);) {
		if (line.empty() || line[0] == '#')
			continue;
		auto compiled = compile_filter(line, kLinkEthernet);
		if (!compiled)
			continue;
		auto body = translate_to_ebpf(compiled->cbpf, FilterAccess::Buffer);
		if (body)
			sized.emplace_back(body->insns.size(), line);
	}
	std::stable_sort(sized.begin(), sized.end(), [](auto &a, auto &b) { return a.first > b.first; });
	std::vector<std::string> out;
	for (std::size_t i = 0; i < sized.size() && i < top; i++)
		out.push_back(sized[i].second);
	return out;
}

struct Worst {
	std::uint32_t insns = 0;
	std::string expression;
};

class Budget {
public:
	explicit Budget(std::uint32_t limit) : limit_(limit) {}

	void add(const std::string &point, const std::vector<bpf::ProgramCost> &costs, const std::string &expression)
	{
		for (const auto &c : costs) {
			Worst &w = worst_[point + " " + c.program];
			if (c.verified_insns >= w.insns)
				w = {c.verified_insns, expression};
		}
	}
	void refused(const std::string &what, const std::string &why)
	{
		std::printf("FAIL %s: %s\n", what.c_str(), why.c_str());
		failed_ = true;
	}
	void not_measured(const std::string &what, const std::string &why)
	{
		std::printf("not measured %s: %s\n", what.c_str(), why.c_str());
	}
	// One line per program; true when every one is within the limit.
	bool report(const std::string &release) const
	{
		bool ok = !failed_;
		for (const auto &[name, w] : worst_) {
			bool over = w.insns > limit_;
			ok = ok && !over;
			std::printf("%s budget %s: worst %u verified instructions (%.1f%% of the limit, budget %u) for '%s' "
				    "on %s\n",
				    over ? "FAIL" : "ok", name.c_str(), w.insns, 100.0 * w.insns / bpf::kVerifierInsnLimit,
				    limit_, w.expression.c_str(), release.c_str());
		}
		return ok && !worst_.empty();
	}

private:
	std::uint32_t limit_;
	std::map<std::string, Worst> worst_;
	bool failed_ = false;
};

std::string quoted(const std::string &e)
{
	return e.empty() ? "(no filter)" : "'" + e + "'";
}

// The skb probes: one of each kind, plain and with every option that adds
// code (device, namespace and mark matches, stacks, a drop reason).
struct SkbCase {
	skb::ProbeKind kind;
	std::vector<std::string> specs; // the first that this kernel has
	bool options;
};

const std::vector<SkbCase> kSkbCases = {
	{skb::ProbeKind::TpBtf, {"tp:net:netif_receive_skb"}, false},
	{skb::ProbeKind::TpBtf, {"tp:skb:kfree_skb"}, true},
	{skb::ProbeKind::RawTp, {"raw_tp:netif_receive_skb"}, false},
	{skb::ProbeKind::RawTp, {"raw_tp:kfree_skb"}, true},
	{skb::ProbeKind::Kprobe, {"kprobe:ip_rcv"}, false},
	{skb::ProbeKind::Kprobe, {"kprobe:kfree_skb_reason", "kprobe:sk_skb_reason_drop@2"}, true},
	{skb::ProbeKind::Fentry, {"fentry:ip_rcv"}, false},
	{skb::ProbeKind::Fentry, {"fentry:kfree_skb_reason", "fentry:sk_skb_reason_drop@2"}, true},
	{skb::ProbeKind::Fexit, {"fexit:ip_rcv"}, true},
};

[[nodiscard]] Result<skb::ResolvedProbe> resolve_first(const std::vector<std::string> &specs, const bpf::KernelBtf &btf)
{
	Result<skb::ResolvedProbe> last = fail("no spec");
	for (const auto &text : specs) {
		auto parsed = skb::parse_probe_specs({text});
		if (!parsed)
			return std::unexpected(parsed.error());
		last = skb::resolve_probe(parsed->front(), btf);
		if (last)
			return last;
	}
	return last;
}

void measure_skb(Budget &budget, const std::vector<std::string> &expressions)
{
	auto btf = bpf::KernelBtf::load();
	if (!btf) {
		budget.refused("skb", btf.error().message);
		return;
	}
	for (const SkbCase &c : kSkbCases) {
		auto probe = resolve_first(c.specs, *btf);
		std::string point = fmt::format("skb {}{}", c.specs.front(), c.options ? " (all options)" : "");
		if (!probe) {
			budget.not_measured(point, probe.error().message);
			continue;
		}
		skb::ProbeFilters filters;
		if (c.options) {
			filters.ifindex = 1;
			filters.netns = 4026531840u;
			filters.mark = 1;
			filters.stacks = true;
		}
		point = fmt::format("skb {}{}", probe->display_name, c.options ? " (all options)" : "");
		for (const auto &e : expressions) {
			auto filter = skb::build_skb_filter(e, CAPX_PACKET_BUF_SIZE);
			if (!filter) {
				budget.refused(fmt::format("{} {}", point, quoted(e)), filter.error().message);
				continue;
			}
			skb::ProbeFilters f = filters;
			if (filter->l2_bytes_needed && filter->l3_bytes_needed)
				f.filter_bytes = std::max(*filter->l2_bytes_needed, *filter->l3_bytes_needed);
			auto costs = skb::ProbeSet::verify(*probe, f, filter->bodies);
			if (!costs) {
				// A kind this kernel cannot load at all: the vm
				// matrix measures it.
				bool tracing = c.kind == skb::ProbeKind::Fentry || c.kind == skb::ProbeKind::Fexit;
				if (tracing && !bpf::probe_feature(bpf::Feature::Fentry)) {
					budget.not_measured(point, bpf::probe_feature(bpf::Feature::Fentry).error().message);
					break;
				}
				budget.refused(fmt::format("{} {}", point, quoted(e)), costs.error().message);
				continue;
			}
			budget.add(point, *costs, e);
		}
	}
}

void measure_mbuf(Budget &budget, const std::vector<std::string> &expressions)
{
	// --binary adds the executable check; any inode will do, nothing runs.
	uprobe::Target target;
	target.by_binary = true;
	target.exe_inode = 1;
	target.exe_dev = 1;
	const mbuf::MbufLayout &layout = mbuf::builtin_layouts().front();
	for (const auto &e : expressions) {
		auto filter = mbuf::build_mbuf_filter(e, CAPX_PACKET_BUF_SIZE);
		if (!filter) {
			budget.refused(fmt::format("mbuf {}", quoted(e)), filter.error().message);
			continue;
		}
		mbuf::CaptureLimits limits;
		limits.filter_bytes = filter->bytes_needed;
		auto costs = mbuf::UprobeSet::verify(target, layout, filter->bodies, limits);
		if (!costs) {
			budget.refused(fmt::format("mbuf {}", quoted(e)), costs.error().message);
			continue;
		}
		budget.add("mbuf", *costs, e);
	}
}

// capx xdp's wrapper, in the layouts that differ in code: exit only, and
// entry + exit with an --action mask. The hook programs share its capture
// path (capture() in bpf/xdp.bpf.c) without the tail call.
void measure_xdp(Budget &budget, const std::vector<std::string> &expressions)
{
	struct Layout {
		const char *name;
		xdp::ProbeLayout layout;
	};
	xdp::ProbeLayout exit_only;
	exit_only.exit_probe = 0;
	xdp::ProbeLayout both;
	both.entry_probe = 0;
	both.exit_probe = 1;
	both.actions = 1u << 1;
	for (const Layout &l : {Layout{"xdp exit", exit_only}, Layout{"xdp entry,exit --action", both}}) {
		for (const auto &e : expressions) {
			auto filter = xdp::build_xdp_filter(e, CAPX_PACKET_BUF_SIZE);
			if (!filter) {
				budget.refused(fmt::format("{} {}", l.name, quoted(e)), filter.error().message);
				continue;
			}
			xdp::ProbeLayout layout = l.layout;
			layout.filter_bytes = filter->bytes_needed;
			auto costs = xdp::XdpProbes::verify(layout, filter->bodies);
			if (!costs) {
				budget.refused(fmt::format("{} {}", l.name, quoted(e)), costs.error().message);
				continue;
			}
			budget.add(l.name, *costs, e);
		}
	}
}

bool parse(int argc, char **argv, Options &o)
{
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
		const char *v = nullptr;
		if (a == "--quick")
			o.quick = true;
		else if (a == "--limit" && (v = value()))
			o.limit = static_cast<std::uint32_t>(std::strtoul(v, nullptr, 10));
		else if (a == "--corpus" && (v = value()))
			o.corpus = v;
		else if (a == "--points" && (v = value()))
			o.points = v;
		else if (a == "--top" && (v = value()))
			o.top = std::strtoul(v, nullptr, 10);
		else
			return false;
	}
	return true;
}

} // namespace

int main(int argc, char **argv)
{
	Options o;
	if (!parse(argc, argv, o)) {
		std::fprintf(stderr, "usage: verifier-budget [--limit N] [--corpus FILE] [--top N] [--quick] "
				     "[--points skb,mbuf,xdp]\n");
		return 2;
	}
	if (geteuid() != 0) {
		std::fprintf(stderr, "SKIP: loading BPF programs needs root\n");
		return 77;
	}
	log::setup(-1);
	std::vector<std::string> expressions = o.quick ? kQuick : kHeavy;
	if (!o.corpus.empty())
		for (auto &e : heaviest_of(o.corpus, o.top))
			if (std::find(expressions.begin(), expressions.end(), e) == expressions.end())
				expressions.push_back(e);
	utsname u{};
	uname(&u);
	std::printf("kernel %s, %zu expressions, budget %u verified instructions per program\n", u.release,
		    expressions.size(), o.limit);

	auto start = std::chrono::steady_clock::now();
	Budget budget(o.limit);
	auto wanted = [&](const char *point) { return ("," + o.points + ",").find(std::string(",") + point + ",") != std::string::npos; };
	if (wanted("skb"))
		measure_skb(budget, expressions);
	if (wanted("mbuf"))
		measure_mbuf(budget, expressions);
	if (wanted("xdp"))
		measure_xdp(budget, expressions);
	bool ok = budget.report(u.release);
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
	std::printf("%s in %lld ms\n", ok ? "within budget" : "OVER BUDGET or not loaded", static_cast<long long>(ms.count()));
	return ok ? 0 : 1;
}
