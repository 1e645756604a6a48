// Ring records of bpf/mbuf.bpf.c as packets: hand-built capx_event records
// through mbuf::RecordConverter, the comment text checked whole, and what
// the sinks make of the metadata.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "capture/mbuf/mbuf_record.hpp"
#include "capx/event.h"
#include "output/packet_meta_text.hpp"
#include "tests/unit/event_record.hpp"

using namespace capx;
using capx::test::event_record;

namespace {

// What a --port 1 --rx probe records.
capx_event port_event()
{
	capx_event e{};
	e.timestamp_ns = 7'000'000'456;
	e.packet_id = 0x17fd3a2c0;
	e.wire_len = 1514;
	e.cap_len = 64;
	e.probe_id = 0;
	e.cpu = 1;
	e.flags = CAPX_EVENT_HAS_PORT | CAPX_EVENT_HAS_QUEUE | CAPX_EVENT_INBOUND | CAPX_EVENT_HAS_TASK |
		  CAPX_EVENT_HAS_PACKET_ID;
	e.port = 1;
	e.queue = 2;
	e.pid = 4242;
	e.tid = 4245;
	std::strcpy(e.comm, "lcore-worker-1");
	return e;
}

WallClock clock_for_test()
{
	return WallClock::measure(CLOCK_MONOTONIC);
}

} // namespace

TEST_CASE("a --port record says port, queue, direction, task and mbuf", "[mbuf][record]")
{
	WallClock clock = clock_for_test();
	mbuf::RecordConverter converter(clock, true);
	auto r = event_record(port_event(), 64);
	auto out = converter.convert(r);
	REQUIRE(out);
	CHECK(out->packet.meta.comment == "port=1 queue=2 rx pid=4242 tid=4245 comm=lcore-worker-1 mbuf=0x17fd3a2c0");
	CHECK(out->packet.meta.direction == Direction::Inbound);
	CHECK(out->pid == 4242);
	CHECK(out->packet.wire_len == 1514);
	REQUIRE(out->packet.data.size() == 64);
	CHECK(out->packet.data[0] == 0);
	CHECK(out->packet.data[63] == 63);
	CHECK(out->packet.data.data() == r.data() + sizeof(capx_event));
	CHECK(out->packet.timestamp_ns == clock.to_wall_ns(7'000'000'456));
	CHECK(out->packet.capture_point == 0);
	// The comment is the whole description: the printer and pcapng show it
	// once, the direction as their own word and flag.
	CHECK(describe_meta(out->packet.meta) == out->packet.meta.comment);
	CHECK_FALSE(out->packet.meta.pid);
	CHECK_FALSE(out->packet.meta.cpu);
	CHECK_FALSE(out->packet.meta.queue);
	CHECK_FALSE(out->packet.meta.packet_id);
}

TEST_CASE("a -f record shows only what the probe knows", "[mbuf][record]")
{
	mbuf::RecordConverter converter(clock_for_test(), true);
	capx_event e = port_event();
	e.flags = CAPX_EVENT_HAS_TASK | CAPX_EVENT_HAS_PACKET_ID;
	e.probe_id = 3;
	e.cap_len = 10;
	auto r = event_record(e, 10);
	auto out = converter.convert(r);
	REQUIRE(out);
	CHECK(out->packet.meta.comment == "pid=4242 tid=4245 comm=lcore-worker-1 mbuf=0x17fd3a2c0");
	CHECK(out->packet.meta.direction == Direction::Unknown);
	CHECK(out->packet.capture_point == 3);

	e.flags = CAPX_EVENT_OUTBOUND | CAPX_EVENT_HAS_PORT;
	e.port = 0;
	auto r2 = event_record(e, 10);
	auto out2 = converter.convert(r2);
	REQUIRE(out2);
	CHECK(out2->packet.meta.comment == "port=0 tx");
	CHECK(out2->packet.meta.direction == Direction::Outbound);
	CHECK_FALSE(out2->pid);

	e.flags = 0;
	auto r3 = event_record(e, 10);
	auto out3 = converter.convert(r3);
	REQUIRE(out3);
	CHECK(out3->packet.meta.comment.empty());
	// The comment of the previous record is not left behind.
	CHECK(describe_meta(out3->packet.meta).empty());
}

TEST_CASE("without a place for the comment none is built", "[mbuf][record]")
{
	mbuf::RecordConverter converter(clock_for_test(), false);
	capx_event e = port_event();
	e.cap_len = 20;
	auto r = event_record(e, 20);
	auto out = converter.convert(r);
	REQUIRE(out);
	CHECK(out->packet.meta.comment.empty());
	CHECK(describe_meta(out->packet.meta).empty());
	// The direction is still there for the pcapng flags word, and the pid
	// for following processes.
	CHECK(out->packet.meta.direction == Direction::Inbound);
	CHECK(out->pid == 4242);
}

TEST_CASE("malformed records are refused", "[mbuf][record]")
{
	mbuf::RecordConverter converter(clock_for_test(), true);
	capx_event e = port_event();
	auto full = event_record(e, 64);
	// Shorter than the header.
	CHECK_FALSE(converter.convert(std::span(full).first(sizeof(capx_event) - 1)));
	// cap_len beyond the record.
	CHECK_FALSE(converter.convert(std::span(full).first(sizeof(capx_event) + 63)));
	// cap_len above wire_len.
	e.wire_len = 10;
	auto r = event_record(e, 64);
	CHECK_FALSE(converter.convert(r));
}
