// SPDX-License-Identifier: GPL-2.0-only
// Ring records of bpf/mbuf.bpf.c as packets: hand-built capx_event records
// through mbuf::RecordConverter, their metadata typed and as text, and what
// the sinks make of the metadata.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "capture/mbuf/mbuf_record.hpp"
#include "capx/event.h"
#include "capx/mbuf_abi.h"
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

TEST_CASE("a --port record has port, queue, direction, task and mbuf", "[mbuf][record]")
{
	WallClock clock = clock_for_test();
	mbuf::RecordConverter converter(clock);
	auto r = event_record(port_event(), 64);
	auto out = converter.convert(r);
	REQUIRE(out);
	CHECK(describe_meta(out->packet.meta) == "port=1 queue=2 pid=4242 tid=4245 comm=lcore-worker-1 mbuf=0x17fd3a2c0");
	CHECK(out->packet.meta.direction == Direction::Inbound);
	CHECK(out->pid == 4242);
	CHECK(out->packet.wire_len == 1514);
	REQUIRE(out->packet.data.size() == 64);
	CHECK(out->packet.data[0] == 0);
	CHECK(out->packet.data[63] == 63);
	CHECK(out->packet.data.data() == r.data() + sizeof(capx_event));
	CHECK(out->packet.timestamp_ns == clock.to_wall_ns(7'000'000'456));
	CHECK(out->packet.capture_point == 0);
	// Typed, for every sink (pcapng also puts the queue and the direction
	// in options): the address is the mbuf's, not a pcapng packet id; the
	// CPU is not said.
	CHECK(out->packet.meta.port == 1u);
	CHECK(out->packet.meta.queue == 2u);
	CHECK(out->packet.meta.pid == 4242u);
	CHECK(out->packet.meta.tid == 4245u);
	CHECK(out->packet.meta.mbuf == 0x17fd3a2c0u);
	CHECK_FALSE(out->packet.meta.cpu);
	CHECK_FALSE(out->packet.meta.skb);
	CHECK_FALSE(out->packet.meta.packet_id);
}

TEST_CASE("a -f record shows only what the probe knows", "[mbuf][record]")
{
	mbuf::RecordConverter converter(clock_for_test());
	capx_event e = port_event();
	e.flags = CAPX_EVENT_HAS_TASK | CAPX_EVENT_HAS_PACKET_ID;
	e.probe_id = 3;
	e.cap_len = 10;
	auto r = event_record(e, 10);
	auto out = converter.convert(r);
	REQUIRE(out);
	CHECK(describe_meta(out->packet.meta) == "pid=4242 tid=4245 comm=lcore-worker-1 mbuf=0x17fd3a2c0");
	CHECK(out->packet.meta.direction == Direction::Unknown);
	CHECK(out->packet.capture_point == 3);

	e.flags = CAPX_EVENT_OUTBOUND | CAPX_EVENT_HAS_PORT;
	e.port = 0;
	auto r2 = event_record(e, 10);
	auto out2 = converter.convert(r2);
	REQUIRE(out2);
	CHECK(describe_meta(out2->packet.meta) == "port=0");
	CHECK(out2->packet.meta.direction == Direction::Outbound);
	CHECK_FALSE(out2->pid);

	e.flags = 0;
	auto r3 = event_record(e, 10);
	auto out3 = converter.convert(r3);
	REQUIRE(out3);
	// The metadata of the previous record is not left behind.
	CHECK(describe_meta(out3->packet.meta).empty());
}

TEST_CASE("malformed records are refused", "[mbuf][record]")
{
	mbuf::RecordConverter converter(clock_for_test());
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

namespace {

// A batch record as bpf/mbuf.bpf.c builds it (capx/mbuf_abi.h): the
// header, then one entry per packet, entries[0] first in memory; each
// entry's event with cap_len bytes counting up from `first`, then `gap`
// unused bytes.
struct Entry {
	std::uint32_t cap_len;
	std::uint8_t first;
	std::uint32_t gap = 0;
};

std::vector<std::uint8_t> batch_record(const std::vector<Entry> &entries)
{
	std::vector<std::uint8_t> body;
	for (const Entry &en : entries) {
		capx_mbuf_batch_entry be{};
		be.size = static_cast<std::uint32_t>(sizeof(be) + sizeof(capx_event) + en.cap_len + en.gap);
		capx_event e = port_event();
		e.cap_len = en.cap_len;
		e.wire_len = en.cap_len + 10;
		e.packet_id = en.first;
		std::size_t at = body.size();
		body.resize(at + be.size, 0xee);
		std::memcpy(body.data() + at, &be, sizeof(be));
		std::memcpy(body.data() + at + sizeof(be), &e, sizeof(e));
		for (std::uint32_t i = 0; i < en.cap_len; i++)
			body[at + sizeof(be) + sizeof(e) + i] = static_cast<std::uint8_t>(en.first + i);
	}
	capx_event h{};
	h.flags = CAPX_EVENT_MBUF_BATCH;
	h.cap_len = static_cast<std::uint32_t>(body.size());
	h.wire_len = h.cap_len;
	std::vector<std::uint8_t> r(sizeof(h) + body.size());
	std::memcpy(r.data(), &h, sizeof(h));
	if (!body.empty())
		std::memcpy(r.data() + sizeof(h), body.data(), body.size());
	return r;
}

} // namespace

TEST_CASE("a batch record splits into its packets in the burst's order", "[mbuf][record][batch]")
{
	// In memory the last packet of the burst comes first.
	auto r = batch_record({{64, 30, 0}, {5, 20, 59}, {60, 10, 4}});
	CHECK(mbuf::is_batch(r));
	std::vector<std::span<const std::uint8_t>> packets;
	REQUIRE(mbuf::split_batch(r, packets));
	REQUIRE(packets.size() == 3);
	WallClock clock = clock_for_test();
	mbuf::RecordConverter converter(clock);
	const std::uint8_t firsts[] = {10, 20, 30};
	const std::size_t lens[] = {60, 5, 64};
	for (std::size_t i = 0; i < 3; i++) {
		INFO(i);
		REQUIRE(packets[i].size() == sizeof(capx_event) + lens[i]); // no gap bytes
		auto out = converter.convert(packets[i]);
		REQUIRE(out);
		REQUIRE(out->packet.data.size() == lens[i]);
		CHECK(out->packet.wire_len == lens[i] + 10);
		CHECK(out->packet.data.front() == firsts[i]);
		CHECK(out->packet.data.back() == static_cast<std::uint8_t>(firsts[i] + lens[i] - 1));
		const char *ids[] = {"mbuf=0xa", "mbuf=0x14", "mbuf=0x1e"}; // packet_id = first
		CHECK(describe_meta(out->packet.meta).ends_with(ids[i]));
	}
}

TEST_CASE("a record that is not a batch is not split", "[mbuf][record][batch]")
{
	auto r = event_record(port_event(), 64);
	CHECK_FALSE(mbuf::is_batch(r));
	CHECK_FALSE(mbuf::is_batch(std::span(r).first(sizeof(capx_event) - 1)));
}

TEST_CASE("a malformed batch is refused whole", "[mbuf][record][batch]")
{
	std::vector<std::span<const std::uint8_t>> packets;
	// No entries.
	CHECK_FALSE(mbuf::split_batch(batch_record({}), packets));
	auto good = batch_record({{64, 0, 8}, {64, 100}});
	REQUIRE(mbuf::split_batch(good, packets));
	const std::size_t body = sizeof(capx_event);
	auto set_u32 = [](std::vector<std::uint8_t> &r, std::size_t at, std::uint32_t v) {
		std::memcpy(r.data() + at, &v, sizeof(v));
	};
	SECTION("the header's cap_len beyond the record")
	{
		auto r = good;
		set_u32(r, offsetof(capx_event, cap_len), static_cast<std::uint32_t>(r.size()));
		CHECK_FALSE(mbuf::split_batch(r, packets));
	}
	SECTION("the record cut short")
	{
		CHECK_FALSE(mbuf::split_batch(std::span(good).first(good.size() - 1), packets));
	}
	SECTION("an entry's size past the batch")
	{
		auto r = good;
		set_u32(r, body, static_cast<std::uint32_t>(good.size()));
		CHECK_FALSE(mbuf::split_batch(r, packets));
	}
	SECTION("an entry's size too small for its event")
	{
		auto r = good;
		set_u32(r, body, sizeof(capx_mbuf_batch_entry) + sizeof(capx_event) - 1);
		CHECK_FALSE(mbuf::split_batch(r, packets));
	}
	SECTION("an entry's event with more bytes than its entry holds")
	{
		auto r = good;
		set_u32(r, body + sizeof(capx_mbuf_batch_entry) + offsetof(capx_event, cap_len), 64 + 8 + 1);
		CHECK_FALSE(mbuf::split_batch(r, packets));
	}
	SECTION("bytes after the last entry too few for an entry")
	{
		auto r = good;
		r.push_back(0);
		set_u32(r, offsetof(capx_event, cap_len), static_cast<std::uint32_t>(r.size() - sizeof(capx_event)));
		CHECK_FALSE(mbuf::split_batch(r, packets));
	}
}
