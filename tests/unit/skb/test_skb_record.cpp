// SPDX-License-Identifier: GPL-2.0-only
// Ring records of bpf/skb.bpf.c as packets: hand-built capx_event records
// through skb::RecordConverter, with their metadata typed and as text.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "capture/skb/skb_record.hpp"
#include "capx/event.h"
#include "core/snaplen.hpp"
#include "output/packet_meta_text.hpp"
#include "output/sink_factory.hpp"
#include "tests/unit/event_record.hpp"

using namespace capx;
using capx::test::event_record;

namespace {

capx_event full_event(std::uint32_t netns)
{
	capx_event e{};
	e.timestamp_ns = 5'000'000'123;
	e.packet_id = 0xffff888100b84c00;
	e.wire_len = 98;
	e.cap_len = 60;
	e.probe_id = 1;
	e.cpu = 3;
	e.flags = CAPX_EVENT_HAS_IFINDEX | CAPX_EVENT_HAS_NETNS | CAPX_EVENT_HAS_TASK | CAPX_EVENT_HAS_PACKET_ID |
		  CAPX_EVENT_HAS_DROP_REASON;
	e.ifindex = 1; // the loopback device has index 1 in every namespace
	e.netns = netns;
	e.pid = 42;
	e.tid = 43;
	e.drop_reason = 2;
	std::strcpy(e.comm, "curl");
	return e;
}

skb::RecordLookups lookups(std::uint32_t own_netns)
{
	skb::RecordLookups l;
	l.own_netns = own_netns;
	l.drop_reason_name = [](std::uint32_t v) {
		return v == 2 ? std::string_view("SKB_DROP_REASON_NO_SOCKET") : std::string_view();
	};
	return l;
}

} // namespace

TEST_CASE("a record becomes a packet with the metadata of capx skb", "[skb][record]")
{
	const std::uint32_t own = skb::own_netns_inode();
	REQUIRE(own != 0);
	skb::RecordConverter converter(WallClock{}, lookups(own), kMaxSnaplen);
	auto r = event_record(full_event(own), 60);
	auto out = converter.convert(r);
	REQUIRE(out);
	const PacketView &p = out->packet;
	CHECK(p.timestamp_ns == 5'000'000'123); // a zero offset WallClock
	CHECK(p.wire_len == 98);
	CHECK(p.capture_point == 1);
	REQUIRE(p.data.size() == 60);
	CHECK(p.data.data() == r.data() + sizeof(capx_event));
	CHECK(p.data[59] == 59);
	CHECK_FALSE(out->facts.l3);
	CHECK_FALSE(out->facts.unreadable_bytes);
	CHECK(describe_meta(p.meta) == fmt::format("dev=1(lo) netns={} cpu=3 pid=42 comm=curl skb=0xffff888100b84c00 "
						   "drop=NO_SOCKET",
						   own));
	// Typed, for every sink: the address is the sk_buff's, not a pcapng
	// packet id; the thread is not said.
	CHECK(p.meta.ifindex == 1u);
	CHECK(p.meta.ifname == "lo");
	CHECK(p.meta.skb == 0xffff888100b84c00u);
	CHECK(p.meta.drop_reason == 2u);
	CHECK(p.meta.drop_reason_name == "NO_SOCKET");
	CHECK_FALSE(p.meta.tid);
	CHECK_FALSE(p.meta.mbuf);
	CHECK_FALSE(p.meta.packet_id);
}

TEST_CASE("devices of other namespaces are named by index only", "[skb][record]")
{
	const std::uint32_t own = skb::own_netns_inode();
	skb::RecordConverter converter(WallClock{}, lookups(own), kMaxSnaplen);
	auto e = full_event(own + 1);
	e.drop_reason = 77; // no name known
	auto out = converter.convert(event_record(e, 60));
	REQUIRE(out);
	CHECK(describe_meta(out->packet.meta) == fmt::format("dev=1 netns={} cpu=3 pid=42 comm=curl "
							     "skb=0xffff888100b84c00 drop=77",
							     own + 1));
}

TEST_CASE("only the facts a record has are in its metadata", "[skb][record]")
{
	skb::RecordConverter converter(WallClock{}, skb::RecordLookups{}, kMaxSnaplen);
	capx_event e{};
	e.wire_len = 42;
	e.cap_len = 42;
	e.cpu = 0;
	e.flags = CAPX_EVENT_HAS_PACKET_ID | CAPX_EVENT_L3;
	e.packet_id = 0x1234;
	auto out = converter.convert(event_record(e, 42));
	REQUIRE(out);
	CHECK(describe_meta(out->packet.meta) == "cpu=0 skb=0x1234");
	CHECK(out->facts.l3);
}

TEST_CASE("stacks are symbolized, without the probe's own frames", "[skb][record]")
{
	const std::map<std::uint64_t, std::string> symbols{
		{0xffffffffc0001000, "bpf_prog_82af7cd7fe324dbf_capx_tp_btf+0x101d [bpf]"},
		{0xffffffff81000010, "bpf_trace_run2+0x103"},
		{0xffffffff81000018, "__traceiter_kfree_skb+0x41"},
		{0xffffffff81000020, "__netif_receive_skb_core.constprop.0+0x333"},
		{0xffffffff81000030, "process_backlog+0x83"},
	};
	skb::RecordLookups l;
	l.stack = [](std::uint32_t id) {
		CHECK(id == 7);
		return std::vector<std::uint64_t>{0xffffffffc0001000, 0xffffffff81000010, 0xffffffff81000018, 0xffffffff81000020,
						  0xffffffff81000099, 0xffffffff81000030};
	};
	l.symbol = [&symbols](std::uint64_t a) {
		auto it = symbols.find(a);
		return it == symbols.end() ? fmt::format("0x{:x}", a) : it->second;
	};
	skb::RecordConverter converter(WallClock{}, l, kMaxSnaplen);
	capx_event e{};
	e.wire_len = 14;
	e.cap_len = 14;
	e.cpu = 1;
	e.flags = CAPX_EVENT_HAS_STACK;
	e.stack_id = 7;
	auto out = converter.convert(event_record(e, 14));
	REQUIRE(out);
	CHECK(describe_meta(out->packet.meta) ==
	      "cpu=1 stack: __netif_receive_skb_core.constprop.0+0x333;0xffffffff81000099;process_backlog+0x83");

	// A stack that is gone from the map adds nothing.
	l.stack = [](std::uint32_t) { return std::vector<std::uint64_t>{}; };
	skb::RecordConverter gone(WallClock{}, l, kMaxSnaplen);
	auto out2 = gone.convert(event_record(e, 14));
	REQUIRE(out2);
	CHECK(describe_meta(out2->packet.meta) == "cpu=1");
}

TEST_CASE("truncation for unreadable bytes is told from the buffer limit", "[skb][record]")
{
	skb::RecordConverter converter(WallClock{}, skb::RecordLookups{}, kMaxSnaplen);
	capx_event e{};
	e.flags = CAPX_EVENT_TRUNCATED;
	e.wire_len = 9000;
	e.cap_len = 200; // the linear part only: the fragments were not read
	auto out = converter.convert(event_record(e, 200));
	REQUIRE(out);
	CHECK(out->facts.unreadable_bytes);
	CHECK(out->packet.wire_len == 9000);

	e.wire_len = 70000;
	e.cap_len = CAPX_PACKET_BUF_SIZE; // as much as a record holds
	out = converter.convert(event_record(e, CAPX_PACKET_BUF_SIZE));
	REQUIRE(out);
	CHECK_FALSE(out->facts.unreadable_bytes);

	// Cut to the user's snaplen is no loss either.
	skb::RecordConverter snap(WallClock{}, skb::RecordLookups{}, 100);
	e.wire_len = 9000;
	e.cap_len = 100;
	out = snap.convert(event_record(e, 100));
	REQUIRE(out);
	CHECK_FALSE(out->facts.unreadable_bytes);
}

TEST_CASE("malformed records are refused", "[skb][record]")
{
	skb::RecordConverter converter(WallClock{}, skb::RecordLookups{}, kMaxSnaplen);
	capx_event e{};
	e.wire_len = 100;
	e.cap_len = 100;
	auto r = event_record(e, 100);
	CHECK_FALSE(converter.convert(std::span(r).first(sizeof(capx_event) - 1)));
	CHECK_FALSE(converter.convert(std::span(r).first(sizeof(capx_event) + 99)));
	e.wire_len = 50; // fewer on the wire than captured
	CHECK_FALSE(converter.convert(event_record(e, 100)));
}

TEST_CASE("records convert one after another into the views of a batch", "[skb][record]")
{
	const std::uint32_t own = skb::own_netns_inode();
	skb::RecordConverter converter(WallClock{}, lookups(own), kMaxSnaplen);
	CHECK_FALSE(converter.keeps_stacks());
	std::vector<std::vector<std::uint8_t>> records;
	std::vector<PacketView> views(3);
	const std::uint32_t lens[] = {20, 60, 0};
	for (std::size_t i = 0; i < 3; i++) {
		auto f = full_event(own);
		// The last one a second and more later: the name cache starts
		// over, the names the earlier views point at stay.
		f.timestamp_ns = 7'000'000'000ull + lens[i] + (i == 2 ? 2'000'000'000ull : 0);
		f.wire_len = 98 + lens[i];
		f.cap_len = lens[i];
		f.probe_id = lens[i] % 3;
		f.flags |= CAPX_EVENT_L3;
		if (i == 1)
			f.flags &= ~(CAPX_EVENT_HAS_TASK | CAPX_EVENT_HAS_DROP_REASON);
		records.push_back(event_record(f, lens[i]));
		skb::RecordFacts facts;
		REQUIRE(converter.convert(records.back(), views[i], facts));
		CHECK(facts.l3);
		CHECK_FALSE(facts.unreadable_bytes);
	}
	for (std::size_t i = 0; i < 3; i++) {
		const PacketView &v = views[i];
		INFO(i);
		CHECK(v.timestamp_ns == 7'000'000'000ull + lens[i] + (i == 2 ? 2'000'000'000ull : 0));
		CHECK(v.wire_len == 98 + lens[i]);
		CHECK(v.data.size() == lens[i]);
		CHECK(v.data.data() == records[i].data() + sizeof(capx_event));
		CHECK(v.capture_point == lens[i] % 3);
		CHECK(v.meta.ifname == "lo");
		CHECK(v.meta.pid.has_value() == (i != 1));
		CHECK(v.meta.comm == (i != 1 ? "curl" : ""));
		CHECK(v.meta.drop_reason_name == (i != 1 ? "NO_SOCKET" : ""));
	}
	// Malformed: cap_len past the end, more captured than on the wire,
	// shorter than a header.
	auto bad = full_event(own);
	bad.cap_len = 100;
	auto r = event_record(bad, 60);
	PacketView v;
	skb::RecordFacts facts;
	CHECK_FALSE(converter.convert(r, v, facts));
	bad.wire_len = 50;
	CHECK_FALSE(converter.convert(event_record(bad, 100), v, facts));
	CHECK_FALSE(converter.convert(std::span(r).first(sizeof(capx_event) - 1), v, facts));
}

TEST_CASE("the outputs that show metadata (for the -S warning)", "[skb][record]")
{
	OutputOptions o;
	o.path = "x.pcap";
	CHECK_FALSE(sink_shows_metadata(o));
	o.path = "x.pcapng";
	CHECK(sink_shows_metadata(o));
	o.path = "x.pcap";
	o.pcapng = true;
	CHECK(sink_shows_metadata(o));
	o.pcapng = false;
	o.print = true;
	CHECK(sink_shows_metadata(o));
	o = OutputOptions{};
	o.tcpdump_flags = "-nn";
	CHECK_FALSE(sink_shows_metadata(o));
}
