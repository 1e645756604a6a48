// SPDX-License-Identifier: GPL-2.0-only
// What capx list prints and capx skb resolves against: the kernel's BTF
// lists of functions and tracepoints with an sk_buff argument, the drop
// reason names, and the attach rules.
#include <catch2/catch.hpp>

#include <algorithm>

#include "bpf/btf.hpp"
#include "bpf/features.hpp"
#include "capture/skb/discovery.hpp"
#include "capture/skb/drop_reason.hpp"
#include "capture/skb/tracefs.hpp"

using namespace capx;

namespace {

const bpf::KernelBtf &kernel_btf()
{
	static auto btf = bpf::KernelBtf::load();
	if (!btf)
		FAIL("the kernel's BTF is needed here: " << btf.error().message);
	return *btf;
}

template<typename List>
const auto *find(const List &list, const std::string &name)
{
	auto it = std::find_if(list.begin(), list.end(), [&](const auto &e) { return e.name == name; });
	return it == list.end() ? nullptr : &*it;
}

} // namespace

TEST_CASE("BTF lists the functions with an sk_buff argument", "[skb][btf]")
{
	auto functions = kernel_btf().functions_with_pointer("sk_buff");
	CHECK(functions.size() > 500);
	CHECK(std::is_sorted(functions.begin(), functions.end(),
			     [](const auto &a, const auto &b) { return a.name < b.name; }));
	CHECK(std::adjacent_find(functions.begin(), functions.end(),
				 [](const auto &a, const auto &b) { return a.name == b.name; }) == functions.end());

	const auto *rcv = find(functions, "ip_rcv");
	REQUIRE(rcv);
	CHECK(rcv->args == std::vector<unsigned>{1});
	const auto *out2 = find(functions, "ip_finish_output2"); // (net, sk, skb)
	REQUIRE(out2);
	CHECK(out2->args == std::vector<unsigned>{3});
	const auto *coalesce = find(functions, "skb_try_coalesce"); // (to, from, ...)
	REQUIRE(coalesce);
	CHECK(coalesce->args == std::vector<unsigned>{1, 2});
	CHECK_FALSE(find(functions, "schedule"));
}

TEST_CASE("BTF lists the tracepoints with an sk_buff argument", "[skb][btf]")
{
	auto tracepoints = kernel_btf().tracepoints_with_pointer("sk_buff");
	CHECK(tracepoints.size() > 10);
	const auto *rx = find(tracepoints, "netif_receive_skb");
	REQUIRE(rx);
	CHECK(rx->args == std::vector<unsigned>{1});
	const auto *tx = find(tracepoints, "net_dev_start_xmit"); // const struct sk_buff *
	REQUIRE(tx);
	CHECK(tx->args == std::vector<unsigned>{1});
	REQUIRE(find(tracepoints, "kfree_skb"));
	CHECK_FALSE(find(tracepoints, "sched_switch"));

	CHECK(kernel_btf().tracepoint_enum_argument("kfree_skb", "skb_drop_reason") == 3u);
	CHECK_FALSE(kernel_btf().tracepoint_enum_argument("netif_receive_skb", "skb_drop_reason"));
	CHECK_FALSE(kernel_btf().tracepoint_enum_argument("no_such_tracepoint_capx", "skb_drop_reason"));
	// tracepoint_pointer_argument counts the const sk_buff too.
	CHECK(kernel_btf().tracepoint_pointer_argument("net_dev_start_xmit", "sk_buff") == 1u);
}

TEST_CASE("drop reason names are the kernel's", "[skb][drop_reason]")
{
	auto reasons = skb::DropReasons::from_btf(kernel_btf());
	CHECK(reasons.all().size() > 50);
	auto value_of = [&](std::string_view name) -> std::optional<std::uint32_t> {
		for (const auto &[value, n] : reasons.all())
			if (n == name)
				return value;
		return std::nullopt;
	};
	// Compared with the enum itself, by its C names.
	auto enumerators = kernel_btf().enum_values("skb_drop_reason");
	auto c_value = [&](std::string_view name) -> std::optional<std::int64_t> {
		for (const auto &e : enumerators)
			if (e.name == name)
				return e.value;
		return std::nullopt;
	};
	REQUIRE(c_value("SKB_DROP_REASON_NOT_SPECIFIED"));
	REQUIRE(c_value("SKB_DROP_REASON_NO_SOCKET"));
	CHECK(value_of("NOT_SPECIFIED") == static_cast<std::uint32_t>(*c_value("SKB_DROP_REASON_NOT_SPECIFIED")));
	CHECK(value_of("NO_SOCKET") == static_cast<std::uint32_t>(*c_value("SKB_DROP_REASON_NO_SOCKET")));
	CHECK(reasons.name(static_cast<std::uint32_t>(*c_value("SKB_DROP_REASON_NO_SOCKET"))) == "NO_SOCKET");
	CHECK(value_of("CONSUMED") == static_cast<std::uint32_t>(*c_value("SKB_CONSUMED")));
	CHECK_FALSE(value_of("MAX"));
	CHECK_FALSE(value_of("SUBSYS_MASK"));
	CHECK(reasons.name(0xffff0000u).empty());
	CHECK(kernel_btf().enum_values("no_such_enum_capx").empty());
}

TEST_CASE("discovery agrees with the attach rules", "[skb][discovery]")
{
	auto rules = skb::AttachRules::current();
	auto functions = skb::discover_functions(kernel_btf(), rules);
	const auto *rcv = find(functions, "ip_rcv");
	REQUIRE(rcv);
	CHECK(rcv->skb_args == std::vector<unsigned>{1});
	CHECK(rcv->fentry == rules.fentry("ip_rcv").has_value());
	CHECK(rcv->kprobe == rules.kprobe("ip_rcv").has_value());
	if (!bpf::probe_feature(bpf::Feature::Fentry) && !bpf::probe_feature(bpf::Feature::Kprobe))
		CHECK(std::none_of(functions.begin(), functions.end(), [](const auto &f) { return f.fentry || f.kprobe; }));

	auto tps = skb::discover_tracepoints(kernel_btf());
	const auto *rx = find(tps.tracepoints, "netif_receive_skb");
	REQUIRE(rx);
	CHECK(rx->skb_args == std::vector<unsigned>{1});
	if (tps.subsystems_known)
		CHECK(rx->subsystem == "net");
	else
		CHECK(rx->subsystem.empty());
}

TEST_CASE("tracefs lists are read by column", "[skb][tracefs]")
{
	using Set = std::set<std::string, std::less<>>;
	// available_filter_functions: the name, maybe followed by its module.
	CHECK(skb::tracefs::column_of("ip_rcv\nveth_xmit [veth]\n\nip_rcv\n", 0) == Set{"ip_rcv", "veth_xmit"});
	// kprobes/blacklist: an address range, a tab, the name.
	CHECK(skb::tracefs::column_of("0xffffffff81000000-0xffffffff81000010\tdo_int3\n"
				      "0xffffffff81000020-0xffffffff81000030\tnotify_die\nshort\n",
				      1) == Set{"do_int3", "notify_die"});
	CHECK(skb::tracefs::column_of("", 0).empty());
}
