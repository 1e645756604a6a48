// SPDX-License-Identifier: GPL-2.0-only
// capx xdp's wrapper (bpf/xdp.bpf.c) around a real XDP program
// (tests/progs/xdp/user_progs.bpf.c), run with BPF_PROG_TEST_RUN: the
// verdict comes back through the tail call for every action and for a
// value beyond them, entry and exit records carry it with one packet id,
// --action filters both sides, and a 9000-byte multi-buffer packet is
// written whole, or cut at the snaplen with its wire length.
#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "bpf/ring_buffer.hpp"
#include "capture/xdp/xdp_filter.hpp"
#include "capture/xdp/xdp_probes.hpp"
#include "capture/xdp/xdp_program.hpp"
#include "ring_records.hpp"

using namespace capx;

namespace {

struct UserObject {
	struct bpf_object *obj = nullptr;
	~UserObject() { bpf_object__close(obj); }
};

// Loads program `name` of the test programs' object; its id.
std::uint32_t load_user_program(UserObject &u, const char *name)
{
	const char *path = std::getenv("CAPX_XDP_PROGS");
	REQUIRE(path);
	u.obj = bpf_object__open_file(path, nullptr);
	REQUIRE(u.obj);
	struct bpf_program *prog = bpf_object__find_program_by_name(u.obj, name);
	REQUIRE(prog);
	struct bpf_program *each;
	bpf_object__for_each_program(each, u.obj) bpf_program__set_autoload(each, each == prog);
	REQUIRE(bpf_object__load(u.obj) == 0);
	bpf_prog_info info{};
	std::uint32_t len = sizeof info;
	REQUIRE(bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0);
	return info.id;
}

void set_verdict(UserObject &u, std::uint32_t verdict)
{
	struct bpf_map *data = bpf_object__find_map_by_name(u.obj, "xdp_user.data");
	REQUIRE(data);
	std::uint32_t key = 0;
	REQUIRE(bpf_map_update_elem(bpf_map__fd(data), &key, &verdict, BPF_ANY) == 0);
}

// An Ethernet/IPv4/UDP frame of `size` bytes to `port`.
std::vector<std::uint8_t> udp_frame(std::size_t size, std::uint16_t port)
{
	std::vector<std::uint8_t> f(size, 0xab);
	const std::uint8_t head[] = {
		0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00,              // Ethernet
		0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4, UDP
		0x30, 0x39, static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port), 0, 0, 0, 0};
	std::copy(std::begin(head), std::end(head), f.begin());
	std::uint16_t ip_len = static_cast<std::uint16_t>(size - 14);
	f[16] = static_cast<std::uint8_t>(ip_len >> 8);
	f[17] = static_cast<std::uint8_t>(ip_len);
	return f;
}

std::unique_ptr<xdp::XdpProbes> wrap(std::uint32_t prog_id, const xdp::ProbeLayout &layout, const char *expression = "")
{
	auto target = xdp::program_by_id(prog_id);
	REQUIRE(target);
	auto filter = xdp::build_xdp_filter(expression, CAPX_PACKET_BUF_SIZE);
	REQUIRE(filter);
	xdp::ProbeLayout l = layout;
	l.filter_bytes = filter->bytes_needed;
	l.ring_bytes = 1 << 20;
	auto probes = xdp::XdpProbes::wrapper(&*target, l, filter->bodies);
	INFO((probes ? "" : probes.error().message));
	REQUIRE(probes);
	return std::move(*probes);
}

// Runs the wrapper once on `frame`; its return value.
std::uint32_t run(const xdp::XdpProbes &probes, std::vector<std::uint8_t> frame)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
		    .repeat = 1);
	REQUIRE(bpf_prog_test_run_opts(probes.program_fd(), &opts) == 0);
	return opts.retval;
}

std::vector<test::RingRecord> drain(const xdp::XdpProbes &probes)
{
	auto ring = bpf::RingBuffer::open(probes.events_map_fd());
	REQUIRE(ring);
	test::CollectRecords c;
	REQUIRE(ring->consume(c));
	return c.records;
}

xdp::ProbeLayout both_sides()
{
	xdp::ProbeLayout l;
	l.entry_probe = 0;
	l.exit_probe = 1;
	return l;
}

} // namespace

TEST_CASE("the wrapped program's verdict comes back, for every action and beyond", "[xdp]")
{
	UserObject u;
	std::uint32_t id = load_user_program(u, "xdp_verdict");
	auto probes = wrap(id, both_sides());
	for (std::uint32_t verdict : {0u, 1u, 2u, 3u, 4u, 7u}) {
		CAPTURE(verdict);
		set_verdict(u, verdict);
		CHECK(run(*probes, udp_frame(60, 53)) == verdict);
		auto records = drain(*probes);
		REQUIRE(records.size() == 2);
		CHECK(records[0].event.probe_id == 0);
		CHECK(records[1].event.probe_id == 1);
		for (const auto &r : records) {
			CHECK(r.event.verdict == verdict);
			CHECK((r.event.flags & CAPX_EVENT_HAS_VERDICT));
			CHECK(r.event.cap_len == 60);
		}
		CHECK(records[0].event.packet_id == records[1].event.packet_id);
	}
	auto entry = probes->counters(0);
	REQUIRE(entry);
	CHECK(entry->hits == 6);
	CHECK(entry->captured == 6);
}

TEST_CASE("--action keeps only the verdicts asked for, at entry and exit", "[xdp]")
{
	UserObject u;
	std::uint32_t id = load_user_program(u, "xdp_verdict");
	xdp::ProbeLayout layout = both_sides();
	layout.actions = (1u << XDP_DROP) | (1u << 5); // drop, other
	auto probes = wrap(id, layout);
	for (std::uint32_t verdict : {0u, 1u, 2u, 3u, 4u, 9u}) {
		set_verdict(u, verdict);
		CHECK(run(*probes, udp_frame(60, 53)) == verdict);
	}
	auto records = drain(*probes);
	REQUIRE(records.size() == 4);
	CHECK(records[0].event.verdict == XDP_DROP);
	CHECK(records[2].event.verdict == 9);
	for (std::uint32_t side : {0u, 1u}) {
		auto c = probes->counters(side);
		REQUIRE(c);
		CHECK(c->hits == 6);
		CHECK(c->filtered_out == 4);
		CHECK(c->captured == 2);
	}
}

TEST_CASE("the expression chooses at entry, and exit follows", "[xdp]")
{
	UserObject u;
	std::uint32_t id = load_user_program(u, "xdp_drop_odd");
	auto probes = wrap(id, both_sides(), "udp port 5001");
	CHECK(run(*probes, udp_frame(60, 5000)) == XDP_PASS);
	CHECK(run(*probes, udp_frame(60, 5001)) == XDP_DROP);
	auto records = drain(*probes);
	REQUIRE(records.size() == 2);
	CHECK(records[0].event.verdict == XDP_DROP);
	CHECK(records[1].event.verdict == XDP_DROP);
	auto exit = probes->counters(1);
	REQUIRE(exit);
	CHECK(exit->hits == 2);
	CHECK(exit->filtered_out == 1);
}

TEST_CASE("a 9000-byte multi-buffer packet is written whole, or cut with its wire length", "[xdp]")
{
	UserObject u;
	std::uint32_t id = load_user_program(u, "xdp_drop_odd_frags");
	auto frame = udp_frame(9000, 5001);
	for (std::uint32_t snaplen : {std::uint32_t{CAPX_PACKET_BUF_SIZE}, 128u}) {
		CAPTURE(snaplen);
		xdp::ProbeLayout layout;
		layout.exit_probe = 0;
		layout.snaplen = snaplen;
		// A port beyond the first page: the filter reads from a copy.
		auto probes = wrap(id, layout, "udp port 5001 and udp[8000] = 0xab");
		CHECK(run(*probes, frame) == XDP_DROP);
		auto records = drain(*probes);
		REQUIRE(records.size() == 1);
		CHECK(records[0].event.wire_len == 9000);
		std::size_t want = snaplen < 9000 ? snaplen : 9000;
		REQUIRE(records[0].data.size() == want);
		CHECK(std::equal(records[0].data.begin(), records[0].data.end(), frame.begin()));
		CHECK(!(records[0].event.flags & CAPX_EVENT_TRUNCATED));
	}
}
