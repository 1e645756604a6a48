// SPDX-License-Identifier: GPL-2.0-only
// Probe specs: parsing (text only) and resolving against this kernel's BTF.
#include <catch2/catch.hpp>

#include <algorithm>

#include "bpf/btf.hpp"
#include "bpf/features.hpp"
#include "capture/skb/probe_spec.hpp"

using namespace capx;
using namespace capx::skb;

namespace {

ProbeSpec parse1(const std::string &text)
{
	auto r = parse_probe_specs({text});
	INFO(text << ": " << (r ? "" : r.error().message));
	REQUIRE(r);
	REQUIRE(r->size() == 1);
	return r->front();
}

Error parse_error(const std::vector<std::string> &args)
{
	auto r = parse_probe_specs(args);
	REQUIRE_FALSE(r);
	CHECK(r.error().status == ExitStatus::Usage);
	return r.error();
}

const bpf::KernelBtf &kernel_btf()
{
	static auto btf = bpf::KernelBtf::load();
	if (!btf)
		FAIL("the kernel's BTF is needed here: " << btf.error().message);
	return *btf;
}

ResolvedProbe resolve_ok(const std::string &text)
{
	auto spec = parse1(text);
	auto r = resolve_probe(spec, kernel_btf());
	INFO(text << ": " << (r ? "" : r.error().message + " / " + r.error().hint));
	REQUIRE(r);
	return *r;
}

Error resolve_error(const std::string &text)
{
	auto spec = parse1(text);
	auto r = resolve_probe(spec, kernel_btf());
	REQUIRE_FALSE(r);
	return r.error();
}

} // namespace

TEST_CASE("every probe form parses", "[skb][spec]")
{
	auto f = parse1("ip_rcv");
	CHECK(f.kind == ProbeKind::Auto);
	CHECK(f.name == "ip_rcv");
	CHECK_FALSE(f.arg);
	CHECK(f.text == "ip_rcv");

	f = parse1("ip_rcv@1");
	CHECK(f.kind == ProbeKind::Auto);
	CHECK(f.name == "ip_rcv");
	CHECK(f.arg == 1u);

	f = parse1("fentry:ip_rcv");
	CHECK(f.kind == ProbeKind::Fentry);
	CHECK(f.name == "ip_rcv");
	f = parse1("fexit:ip_finish_output2@3");
	CHECK(f.kind == ProbeKind::Fexit);
	CHECK(f.name == "ip_finish_output2");
	CHECK(f.arg == 3u);
	f = parse1("kprobe:tcp_v4_rcv.cold");
	CHECK(f.kind == ProbeKind::Kprobe);
	CHECK(f.name == "tcp_v4_rcv.cold");

	f = parse1("tracepoint:net:netif_receive_skb");
	CHECK(f.kind == ProbeKind::TpBtf);
	CHECK(f.subsystem == "net");
	CHECK(f.name == "netif_receive_skb");
	f = parse1("tp:skb:kfree_skb");
	CHECK(f.kind == ProbeKind::TpBtf);
	CHECK(f.subsystem == "skb");
	CHECK(f.name == "kfree_skb");
	CHECK(f.text == "tp:skb:kfree_skb");
	f = parse1("tp:net:net_dev_start_xmit@1");
	CHECK(f.arg == 1u);

	f = parse1("raw_tp:kfree_skb");
	CHECK(f.kind == ProbeKind::RawTp);
	CHECK(f.subsystem.empty());
	CHECK(f.name == "kfree_skb");
}

TEST_CASE("commas and whitespace split and trim specs", "[skb][spec]")
{
	auto r = parse_probe_specs({"ip_rcv, tp:net:netif_receive_skb ,raw_tp:kfree_skb", " fexit:ip_rcv@1 "});
	REQUIRE(r);
	REQUIRE(r->size() == 4);
	CHECK((*r)[0].text == "ip_rcv");
	CHECK((*r)[1].kind == ProbeKind::TpBtf);
	CHECK((*r)[1].text == "tp:net:netif_receive_skb");
	CHECK((*r)[2].kind == ProbeKind::RawTp);
	CHECK((*r)[3].kind == ProbeKind::Fexit);
	CHECK((*r)[3].text == "fexit:ip_rcv@1");

	auto none = parse_probe_specs({});
	REQUIRE(none);
	CHECK(none->empty());
}

TEST_CASE("bad probe specs are usage errors naming the spec", "[skb][spec]")
{
	CHECK(parse_error({"fentry:"}).message == "probe 'fentry:' has no function name");
	CHECK(parse_error({"raw_tp:"}).message == "probe 'raw_tp:' has no tracepoint name");
	CHECK(parse_error({"tp:net:"}).message == "probe 'tp:net:' has no tracepoint name");
	CHECK(parse_error({"tp:net"}).message == "probe 'tp:net' needs SUBSYS:NAME");
	CHECK(parse_error({"tracepoint:a:b:c"}).message == "probe 'tracepoint:a:b:c' needs SUBSYS:NAME");
	CHECK(parse_error({"tp::kfree_skb"}).message == "probe 'tp::kfree_skb' has no tracepoint subsystem");
	CHECK(parse_error({"ip_rcv,,ip6_rcv"}).message == "empty probe in 'ip_rcv,,ip6_rcv'");
	CHECK(parse_error({"ip_rcv,"}).message == "empty probe in 'ip_rcv,'");
	CHECK(parse_error({"  "}).message == "empty probe in '  '");
	CHECK(parse_error({"ip_rcv@"}).message == "probe 'ip_rcv@' has no argument number after '@'");
	CHECK(parse_error({"ip_rcv@x"}).message == "probe 'ip_rcv@x': 'x' is not an argument number");
	CHECK(parse_error({"ip_rcv@1x"}).message == "probe 'ip_rcv@1x': '1x' is not an argument number");
	CHECK(parse_error({"ip_rcv@0"}).message == "probe 'ip_rcv@0': arguments are numbered from 1");
	CHECK(parse_error({"ip rcv"}).message == "bad function name 'ip rcv' in probe 'ip rcv'");
	CHECK(parse_error({"1abc"}).message == "bad function name '1abc' in probe '1abc'");
	CHECK(parse_error({"fentry:ip_rcv:x"}).message == "bad function name 'ip_rcv:x' in probe 'fentry:ip_rcv:x'");
	CHECK(parse_error({"tp:net:netif.receive"}).message ==
	      "bad tracepoint name 'netif.receive' in probe 'tp:net:netif.receive'");

	Error e = parse_error({"kretprobe:ip_rcv"});
	CHECK(e.message == "unknown probe type 'kretprobe' in 'kretprobe:ip_rcv'");
	CHECK_THAT(e.hint, Catch::Contains("did you mean tp:kretprobe:ip_rcv?"));
	e = parse_error({"net:netif_receive_skb"});
	CHECK(e.message == "unknown probe type 'net' in 'net:netif_receive_skb'");
	CHECK(e.hint == "did you mean tp:net:netif_receive_skb?");
	e = parse_error({"foo bar:x y"});
	CHECK_THAT(e.hint, Catch::Contains("-f takes FUNC[@N]"));

	// The first bad spec of a list is the one reported.
	CHECK(parse_error({"ip_rcv", "fexit:"}).message == "probe 'fexit:' has no function name");
}

TEST_CASE("probe kind names", "[skb][spec]")
{
	CHECK(std::string(probe_kind_name(ProbeKind::Auto)) == "auto");
	CHECK(std::string(probe_kind_name(ProbeKind::Fentry)) == "fentry");
	CHECK(std::string(probe_kind_name(ProbeKind::Fexit)) == "fexit");
	CHECK(std::string(probe_kind_name(ProbeKind::Kprobe)) == "kprobe");
	CHECK(std::string(probe_kind_name(ProbeKind::TpBtf)) == "tp_btf");
	CHECK(std::string(probe_kind_name(ProbeKind::RawTp)) == "raw_tp");
}

TEST_CASE("closest names rank typos first", "[skb][spec]")
{
	std::vector<std::string> names{"ip_rcv", "ip6_rcv", "ip_rcv_core", "tcp_v4_rcv", "udp_rcv", "arp_rcv"};
	auto close = closest_names("ip_rvc", names);
	REQUIRE(close.size() >= 2);
	CHECK(close[0] == "ip_rcv");
	CHECK(close[1] == "ip6_rcv");
	CHECK(closest_names("zzzzzzzzzz", names).empty());
	CHECK(closest_names("ip_rcv", names, 1) == std::vector<std::string>{"ip_rcv"});
}

TEST_CASE("function probes resolve against the kernel's BTF", "[skb][spec][btf]")
{
	// The argument checks run before the attach type is chosen, so they
	// hold whatever this kernel allows.
	Error wrong = resolve_error("ip_rcv@2");
	CHECK(wrong.message == "argument 2 of ip_rcv is 'struct net_device *', not 'struct sk_buff *'");
	CHECK(wrong.status == ExitStatus::Usage);
	CHECK(wrong.hint == "the struct sk_buff * of ip_rcv is argument 1");
	CHECK(resolve_error("ip_rcv@9").message == "ip_rcv has 4 arguments, there is no argument 9");

	Error unknown = resolve_error("ip_rvc");
	CHECK(unknown.message == "no kernel function 'ip_rvc'");
	CHECK(unknown.status == ExitStatus::Usage);
	CHECK_THAT(unknown.hint, Catch::StartsWith("did you mean ip_rcv"));
	CHECK(resolve_error("ip_rcv_finis").hint == "did you mean ip_rcv_finish, ip6_rcv_finish?");
	CHECK_THAT(resolve_error("fentry:netif_receive_skbb").hint, Catch::Contains("netif_receive_skb"));

	Error no_skb = resolve_error("kprobe:schedule");
	CHECK(no_skb.message == "schedule takes no 'struct sk_buff *' argument");
	CHECK(no_skb.hint == "'capx list functions' lists the hooks with an sk_buff argument");

	// skb_try_coalesce(struct sk_buff *to, struct sk_buff *from, ...)
	Error several = resolve_error("skb_try_coalesce");
	CHECK(several.message == "skb_try_coalesce has sk_buff arguments 1 and 2: choose one with @N");
	CHECK(several.hint == "e.g. skb_try_coalesce@1");
}

TEST_CASE("FUNC without a type needs fentry or kprobes", "[skb][spec][features]")
{
	auto fentry = bpf::probe_feature(bpf::Feature::Fentry);
	auto kprobe = bpf::probe_feature(bpf::Feature::Kprobe);
	auto spec = parse1("ip_rcv");
	auto r = resolve_probe(spec, kernel_btf());
	if (fentry) {
		REQUIRE(r);
		CHECK(r->kind == ProbeKind::Fentry);
		CHECK(r->kprobe_fallback == kprobe.has_value());
		CHECK(r->display_name == "ip_rcv@fentry");
		auto k = as_kprobe(*r);
		CHECK(k.kind == ProbeKind::Kprobe);
		CHECK(k.display_name == "ip_rcv@kprobe");
		CHECK_FALSE(k.kprobe_fallback);
		CHECK(k.skb_arg == r->skb_arg);
	} else if (kprobe) {
		REQUIRE(r);
		CHECK(r->kind == ProbeKind::Kprobe);
		CHECK_FALSE(r->kprobe_fallback);
		CHECK(r->display_name == "ip_rcv@kprobe");
	} else {
		// This machine: fentry EPERM, no kprobe PMU. One line with both
		// reasons and where to go instead.
		REQUIRE_FALSE(r);
		CHECK(r.error().status == ExitStatus::Runtime);
		CHECK_THAT(r.error().message, Catch::StartsWith("cannot trace ip_rcv here: fentry: "));
		CHECK_THAT(r.error().message, Catch::Contains(fentry.error().message));
		CHECK_THAT(r.error().message, Catch::Contains("; kprobe: " + kprobe.error().message));
		CHECK(r.error().message.find('\n') == std::string::npos);
		CHECK_THAT(r.error().hint, Catch::Contains("-f tp:net:netif_receive_skb"));
	}
	if (r)
		CHECK(r->skb_arg == 0);

	auto explicit_fentry = resolve_probe(parse1("fexit:ip_rcv"), kernel_btf());
	CHECK(explicit_fentry.has_value() == fentry.has_value());
	if (explicit_fentry)
		CHECK(explicit_fentry->display_name == "ip_rcv@fexit");
	else
		CHECK_THAT(explicit_fentry.error().message,
			   Catch::StartsWith("cannot attach fexit:ip_rcv: fexit uses fentry's trampoline, and "));
	if (!explicit_fentry && !kprobe)
		CHECK_THAT(explicit_fentry.error().hint, Catch::Contains("-f tp:net:netif_receive_skb"));
	if (!explicit_fentry && kprobe)
		CHECK(explicit_fentry.error().hint == "try kprobe:ip_rcv");
	auto explicit_kprobe = resolve_probe(parse1("kprobe:ip_rcv"), kernel_btf());
	CHECK(explicit_kprobe.has_value() == kprobe.has_value());
	if (!explicit_kprobe)
		CHECK_THAT(explicit_kprobe.error().message, Catch::StartsWith("cannot attach kprobe:ip_rcv: "));
}

TEST_CASE("tracepoint probes resolve against the kernel's BTF", "[skb][spec][btf]")
{
	auto rx = resolve_ok("tp:net:netif_receive_skb");
	CHECK(rx.kind == ProbeKind::TpBtf);
	CHECK(rx.target == "netif_receive_skb");
	CHECK(rx.skb_arg == 0);
	CHECK_FALSE(rx.drop_reason_arg);
	CHECK(rx.display_name == "net:netif_receive_skb");
	CHECK(rx.spec_text == "tp:net:netif_receive_skb");
	CHECK_FALSE(rx.kprobe_fallback);

	// const struct sk_buff * counts: the packet is only read.
	auto tx = resolve_ok("tracepoint:net:net_dev_start_xmit");
	CHECK(tx.skb_arg == 0);
	CHECK(tx.display_name == "net:net_dev_start_xmit");

	// kfree_skb(skb, location, reason, rx_sk): the reason is argument 3.
	auto drop = resolve_ok("tp:skb:kfree_skb");
	CHECK(drop.skb_arg == 0);
	REQUIRE(drop.drop_reason_arg);
	CHECK(*drop.drop_reason_arg == 2);
	CHECK(drop.display_name == "skb:kfree_skb");

	auto raw = resolve_ok("raw_tp:kfree_skb");
	CHECK(raw.kind == ProbeKind::RawTp);
	CHECK(raw.target == "kfree_skb");
	CHECK(raw.drop_reason_arg == 2u);
	CHECK(raw.display_name == "kfree_skb@raw_tp");

	Error unknown = resolve_error("tp:net:netif_recieve_skb");
	CHECK(unknown.message == "no tracepoint 'net:netif_recieve_skb' with a BTF prototype");
	// Candidates spelled as -f takes them: tp:SUBSYS:NAME, raw_tp:NAME.
	CHECK_THAT(unknown.hint, Catch::Contains("tp:net:netif_receive_skb"));
	CHECK(unknown.status == ExitStatus::Usage);
	CHECK_THAT(resolve_error("raw_tp:kfree_skbb").hint, Catch::Contains("raw_tp:kfree_skb"));
	CHECK(resolve_error("raw_tp:no_such_tracepoint_capx").message ==
	      "no tracepoint 'no_such_tracepoint_capx' with a BTF prototype");
	CHECK(resolve_error("tp:net:netif_receive_skb@2").message == "netif_receive_skb has 1 argument, there is no argument 2");
	// sched_switch has a BTF prototype but no packet.
	Error no_packet = resolve_error("tp:sched:sched_switch");
	CHECK(no_packet.message == "sched_switch takes no 'struct sk_buff *' argument");
	CHECK(no_packet.hint == "'capx list tracepoints' lists the hooks with an sk_buff argument");
}
