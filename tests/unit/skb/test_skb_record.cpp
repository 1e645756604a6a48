// SPDX-License-Identifier: GPL-2.0-only
// Ring records of bpf/skb.bpf.c as packets: hand-built capx_event records
// through skb::RecordConverter, with the comment text checked whole.
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
	l.drop_reason_name = [](std::uint32_t v) { return v == 2 ? std::string("SKB_DROP_REASON_NO_SOCKET") : std::string(); };
	return l;
}

} // namespace

TEST_CASE("a record becomes a packet with the comment of capx skb", "[skb][record]")
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
	CHECK_FALSE(out->l3);
	CHECK_FALSE(out->unreadable_bytes);
	CHECK(p.meta.comment == fmt::format("dev=1(lo) netns={} cpu=3 pid=42 comm=curl skb=0xffff888100b84c00 "
					    "drop=NO_SOCKET",
					    own));
	// The comment is the whole description: sinks print it once.
	CHECK(describe_meta(p.meta) == p.meta.comment);
	CHECK_FALSE(p.meta.ifindex);
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
	CHECK(out->packet.meta.comment == fmt::format("dev=1 netns={} cpu=3 pid=42 comm=curl skb=0xffff888100b84c00 "
						      "drop=77",
						      own + 1));
}

TEST_CASE("only the facts a record has are in its comment", "[skb][record]")
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
	CHECK(out->packet.meta.comment == "cpu=0 skb=0x1234");
	CHECK(out->l3);
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
	CHECK(out->packet.meta.comment ==
	      "cpu=1 stack: __netif_receive_skb_core.constprop.0+0x333;0xffffffff81000099;process_backlog+0x83");

	// A stack that is gone from the map adds nothing.
	l.stack = [](std::uint32_t) { return std::vector<std::uint64_t>{}; };
	skb::RecordConverter gone(WallClock{}, l, kMaxSnaplen);
	auto out2 = gone.convert(event_record(e, 14));
	REQUIRE(out2);
	CHECK(out2->packet.meta.comment == "cpu=1");
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
	CHECK(out->unreadable_bytes);
	CHECK(out->packet.wire_len == 9000);

	e.wire_len = 70000;
	e.cap_len = CAPX_PACKET_BUF_SIZE; // as much as a record holds
	out = converter.convert(event_record(e, CAPX_PACKET_BUF_SIZE));
	REQUIRE(out);
	CHECK_FALSE(out->unreadable_bytes);

	// Cut to the user's snaplen is no loss either.
	skb::RecordConverter snap(WallClock{}, skb::RecordLookups{}, 100);
	e.wire_len = 9000;
	e.cap_len = 100;
	out = snap.convert(event_record(e, 100));
	REQUIRE(out);
	CHECK_FALSE(out->unreadable_bytes);
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

TEST_CASE("no comment is built for an output without metadata", "[skb][record]")
{
	const std::uint32_t own = skb::own_netns_inode();
	auto l = lookups(own);
	bool stack_asked = false;
	l.stack = [&stack_asked](std::uint32_t) {
		stack_asked = true;
		return std::vector<std::uint64_t>{0xffffffff81000000};
	};
	l.describe = false;
	skb::RecordConverter converter(WallClock{}, l, kMaxSnaplen);
	auto e = full_event(own);
	e.flags |= CAPX_EVENT_HAS_STACK;
	auto out = converter.convert(event_record(e, 60));
	REQUIRE(out);
	CHECK(out->packet.meta.comment.empty());
	CHECK(describe_meta(out->packet.meta).empty());
	CHECK(out->packet.data.size() == 60);
	CHECK_FALSE(stack_asked); // no map lookup per packet for nothing

	// Record after record in place (the per-packet path reads only the
	// leading fields and leaves the empty metadata as it is).
	for (std::uint32_t len : {20u, 60u, 0u}) {
		auto f = full_event(own);
		f.timestamp_ns = 7'000'000'000ull + len;
		f.wire_len = 98 + len;
		f.cap_len = len;
		f.probe_id = len % 3;
		f.flags |= CAPX_EVENT_L3;
		auto r = event_record(f, len);
		const skb::SkbRecord *in_place = converter.convert_in_place(r);
		REQUIRE(in_place);
		CHECK(in_place->packet.timestamp_ns == 7'000'000'000ull + len);
		CHECK(in_place->packet.wire_len == 98 + len);
		CHECK(in_place->packet.data.size() == len);
		CHECK(in_place->packet.data.data() == r.data() + sizeof(capx_event));
		CHECK(in_place->packet.capture_point == len % 3);
		CHECK(in_place->l3);
		CHECK(describe_meta(in_place->packet.meta).empty());
		CHECK_FALSE(in_place->packet.meta.ifindex);
		CHECK_FALSE(in_place->packet.meta.pid);
	}
	// Malformed the same as with metadata: cap_len past the end, more
	// captured than on the wire, shorter than a header.
	auto bad = full_event(own);
	bad.cap_len = 100;
	auto r = event_record(bad, 60);
	CHECK_FALSE(converter.convert_in_place(r));
	bad.wire_len = 50;
	CHECK_FALSE(converter.convert_in_place(event_record(bad, 100)));
	CHECK_FALSE(converter.convert_in_place(std::span(r).first(sizeof(capx_event) - 1)));
}

TEST_CASE("the outputs that show metadata", "[skb][record]")
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
