// SPDX-License-Identifier: GPL-2.0-only
// --mbuf-layout values and the built-in table's shape. The table's numbers
// are checked against real DPDK headers in test_layout_dpdk.cpp.
#include <unistd.h>

#include <cstring>
#include <set>

#include <catch2/catch.hpp>

#include "capture/mbuf/mbuf_layout.hpp"

using namespace capx;
using namespace capx::mbuf;
using namespace capx::uprobe;

TEST_CASE("built-in layouts: every DPDK LTS from 20.11, no-IOVA variants from 22.11", "[mbuf][layout]")
{
	std::set<std::string> names;
	for (const MbufLayout &l : builtin_layouts())
		names.insert(l.name);
	CHECK(names == std::set<std::string>{"dpdk-20.11", "dpdk-21.11", "dpdk-22.11", "dpdk-22.11-no-iova",
					     "dpdk-23.11", "dpdk-23.11-no-iova", "dpdk-24.11", "dpdk-24.11-no-iova"});
	for (const MbufLayout &l : builtin_layouts()) {
		INFO(l.name);
		bool no_iova = l.name.ends_with("-no-iova");
		CHECK(l.offsets.next == (no_iova ? 8 : 64));
		CHECK(l.offsets.size == (no_iova ? 56 : 72)); // buf_len ends at 56, next at 72
		CHECK(l.offsets.buf_addr == 0);
		CHECK(l.offsets.pkt_len == 36);
	}
}

TEST_CASE("--mbuf-layout NAME", "[mbuf][layout]")
{
	auto l = parse_layout("dpdk-22.11");
	REQUIRE(l);
	CHECK(l->name == "dpdk-22.11");
	CHECK(l->offsets.data_off == 16);
	auto short_name = parse_layout("23.11-no-iova");
	REQUIRE(short_name);
	CHECK(short_name->name == "dpdk-23.11-no-iova");
	CHECK(short_name->offsets.next == 8);

	auto unknown = parse_layout("dpdk-19.11");
	REQUIRE_FALSE(unknown);
	CHECK(unknown.error().status == ExitStatus::Usage);
	CHECK(unknown.error().message == "--mbuf-layout: unknown layout 'dpdk-19.11'");
	CHECK(unknown.error().hint.find("dpdk-24.11") != std::string::npos);
}

TEST_CASE("--mbuf-layout FIELD=OFFSET,...", "[mbuf][layout]")
{
	auto l = parse_layout("buf_addr=0,data_off=16,nb_segs=20,port=22,pkt_len=36,data_len=40,buf_len=54,next=0x40");
	REQUIRE(l);
	CHECK(l->name == "custom");
	auto table = parse_layout("dpdk-22.11");
	REQUIRE(table);
	CHECK(std::memcmp(&l->offsets, &table->offsets, sizeof(capx_mbuf_layout)) == 0);

	// Any order, spaces around items.
	auto shuffled = parse_layout(" next=8, buf_len=54,data_len=40 ,pkt_len=36,port=22,nb_segs=20,data_off=16,buf_addr=0");
	REQUIRE(shuffled);
	CHECK(shuffled->offsets.next == 8);
	CHECK(shuffled->offsets.size == 56);

	struct Bad {
		const char *value;
		const char *message;
	};
	for (const Bad &b : {
		     Bad{"", "--mbuf-layout: empty value"},
		     Bad{"buf_addr=0,data_off=16", "--mbuf-layout: missing nb_segs, port, pkt_len, data_len, buf_len, next"},
		     Bad{"buf_addr=0,data_off=16,nb_segs=20,port=22,pkt_len=36,data_len=40,buf_len=54,next=64,vlan_tci=42",
			 "--mbuf-layout: unknown field 'vlan_tci'"},
		     Bad{"buf_addr=0,buf_addr=8", "--mbuf-layout: field 'buf_addr' given twice"},
		     Bad{"buf_addr=x", "--mbuf-layout: buf_addr: 'x' is not a number"},
		     Bad{"buf_addr=0,data_off=16,nb_segs=20,port=22,pkt_len=36,data_len=40,buf_len=54,next=121",
			 "--mbuf-layout: next=121 ends beyond the first 128 bytes of the mbuf"},
		     Bad{"buf_addr=200", "--mbuf-layout: buf_addr=200 ends beyond the first 128 bytes of the mbuf"},
		     Bad{"buf_addr=0,data_off", "--mbuf-layout: 'data_off' is not FIELD=OFFSET"},
		     Bad{"buf_addr", "--mbuf-layout: unknown layout 'buf_addr'"},
		     Bad{"buf_addr=0,,next=8", "--mbuf-layout: '' is not FIELD=OFFSET"},
	     }) {
		INFO(b.value);
		auto r = parse_layout(b.value);
		REQUIRE_FALSE(r);
		CHECK(r.error().status == ExitStatus::Usage);
		CHECK(r.error().message == b.message);
	}
	// The last byte that may be read is the 128th.
	CHECK(parse_layout("buf_addr=0,data_off=16,nb_segs=20,port=22,pkt_len=36,data_len=40,buf_len=126,next=120"));
}

TEST_CASE("make_layout: checked and sized", "[mbuf][layout]")
{
	capx_mbuf_layout o{0, 16, 20, 22, 36, 40, 54, 64, 0, {}};
	auto l = make_layout("dwarf:x", o);
	REQUIRE(l);
	CHECK(l->offsets.size == 72);
	o.next = 127;
	CHECK_FALSE(make_layout("dwarf:x", o));
}

TEST_CASE("detect_layout: no DPDK in this process", "[mbuf][layout]")
{
	auto t = target_from_pid(getpid());
	REQUIRE(t);
	auto l = detect_layout(*t);
	REQUIRE_FALSE(l);
	CHECK(l.error().message.find("maps no librte_mbuf.so") != std::string::npos);
	CHECK(l.error().hint.find("--mbuf-layout dpdk-22.11") != std::string::npos);
}
