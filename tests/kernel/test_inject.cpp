// SPDX-License-Identifier: GPL-2.0-only
// The injected filter in the kernel gives libpcap's verdicts: for a set of
// expressions over real captures (tcpdump's test pcaps) and synthetic
// packets, bpf/filter_test.bpf.c run with BPF_PROG_TEST_RUN in packet and
// buffer mode returns exactly what libpcap's bpf_filter() returns, and the
// capture core sends exactly the matches, with their bytes, to the ring.
// Needs root (tests/unit/needs_main.cpp skips otherwise).
#include <catch2/catch.hpp>

#include <pcap/pcap.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bpf/filter_test_program.hpp"
#include "output/pcap_reader.hpp"
#include "filter/cbpf.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/ebpf_translator.hpp"

using namespace capx;
using namespace capx::bpf;

namespace {

struct Packet {
	std::vector<std::uint8_t> data;
	std::uint32_t wire_len;
};

std::vector<Packet> corpus()
{
	std::vector<Packet> packets;
	const char *root = std::getenv("CAPX_SHARED_PCAPS");
	std::filesystem::path dir = std::filesystem::path(root ? root : "../shared/pcaps") / "tcpdump-tests";
	for (const char *name : {"802.1ad_QinQ.pcap", "IGMP_V2.pcap", "PIM-SM_join_prune.pcap", "OSPFv3_with_AH.pcap",
				 "RADIUS.pcap", "accecn_handshake.pcap", "bgp-4byte-asn.pcap", "DECnet_Phone.pcap",
				 "arp-too-long-tha.pcap", "EIGRP_ipv6.pcap", "ISAKMP_sa_setup.pcap", "LLDP_and_CDP.pcap"}) {
		auto reader = PcapReader::open((dir / name).string());
		if (!reader)
			continue;
		while (packets.size() < 400) {
			auto rec = reader->next();
			if (!rec || !*rec)
				break;
			if ((*rec)->data.size() >= FilterTestProgram::kMinPacket &&
			    (*rec)->data.size() <= FilterTestProgram::kMaxPacketMode)
				packets.push_back({std::move((*rec)->data), (*rec)->wire_len});
		}
	}
	// A truncated capture: loads past the captured bytes must fail.
	if (!packets.empty()) {
		Packet cut = packets.front();
		cut.data.resize(20);
		packets.push_back(cut);
	}
	return packets;
}

FilterBodies bodies_for(const CompiledFilter &compiled)
{
	auto pkt = translate_to_ebpf(compiled.cbpf, FilterAccess::Packet);
	auto buf = translate_to_ebpf(compiled.cbpf, FilterAccess::Buffer);
	REQUIRE(pkt);
	REQUIRE(buf);
	return {.packet = pkt->insns, .buffer = buf->insns, .l3 = std::nullopt};
}

struct Collect : RecordHandler {
	std::vector<std::vector<std::uint8_t>> records;
	bool on_record(std::span<const std::uint8_t> r) override
	{
		records.emplace_back(r.begin(), r.end());
		return true;
	}
};

} // namespace

TEST_CASE("injected filters give libpcap's verdicts in both modes")
{
	const auto packets = corpus();
	REQUIRE(packets.size() > 100);

	const char *expressions[] = {
		"",
		"tcp",
		"udp",
		"ip6",
		"arp",
		"vlan",
		"vlan and udp",
		"igmp",
		"icmp or icmp6",
		"host 10.0.0.1 or net 192.168.0.0/16",
		"tcp port 179",
		"udp port 1812 or udp port 1813",
		"tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
		"ip[6:2] & 0x1fff = 0",
		"ether[0] & 1 = 1",
		"len > 300",
		"greater 100 and less 400",
		"ip proto 50 or ip6 proto 50",
		"portrange 1-1024",
		"ip and ip[8] < 64",
		"ether proto 0x6003",
		"ip6 and ip6[6] = 17",
		"tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420",
	};
	for (const char *expression : expressions) {
		INFO("expression: '" << expression << "'");
		auto oracle = CbpfProgram::compile(expression, DLT_EN10MB);
		REQUIRE(oracle);
		auto compiled = compile_filter(expression, kLinkEthernet);
		REQUIRE(compiled);
		auto program = FilterTestProgram::load(bodies_for(*compiled));
		if (!program)
			FAIL(program.error().message);

		std::uint64_t matches = 0;
		std::vector<std::vector<std::uint8_t>> expected_records;
		for (std::size_t i = 0; i < packets.size(); i++) {
			const Packet &p = packets[i];
			std::uint32_t want = oracle->run(p.data, p.wire_len);
			auto pkt = program->run(FilterMode::Packet, p.data, p.wire_len);
			auto buf = program->run(FilterMode::Buffer, p.data, p.wire_len);
			REQUIRE(pkt);
			REQUIRE(buf);
			INFO("packet " << i << ", " << p.data.size() << " of " << p.wire_len << " bytes");
			CHECK(*pkt == want);
			CHECK(*buf == want);
			if (want) {
				matches++;
				std::size_t keep = std::min<std::size_t>({want, p.data.size(), CAPX_PACKET_BUF_SIZE});
				expected_records.emplace_back(p.data.begin(), p.data.begin() + keep);
			}
		}

		// Every match went through the capture core, twice (one per mode).
		auto pc = program->counters(FilterMode::Packet);
		auto bc = program->counters(FilterMode::Buffer);
		REQUIRE(pc);
		REQUIRE(bc);
		CHECK(pc->hits == packets.size());
		CHECK(bc->hits == packets.size());
		CHECK(pc->filtered_out == packets.size() - matches);
		CHECK(bc->filtered_out == packets.size() - matches);
		CHECK(pc->captured == matches);
		CHECK(bc->captured == matches);
		CHECK(pc->lost_ring_full + bc->lost_ring_full + pc->errors + bc->errors + pc->lost_busy == 0);

		Collect got;
		auto n = program->drain(got);
		REQUIRE(n);
		REQUIRE(got.records.size() == 2 * matches);
		std::size_t pkt_i = 0, buf_i = 0;
		for (const auto &r : got.records) {
			REQUIRE(r.size() >= sizeof(capx_event));
			capx_event e;
			std::memcpy(&e, r.data(), sizeof(e));
			REQUIRE((e.probe_id == 0 || e.probe_id == 1));
			std::size_t &i = e.probe_id == 0 ? pkt_i : buf_i;
			REQUIRE(i < expected_records.size());
			const auto &want = expected_records[i++];
			CHECK(e.cap_len == want.size());
			CHECK(std::vector<std::uint8_t>(r.begin() + sizeof(e), r.begin() + sizeof(e) + e.cap_len) == want);
			CHECK(e.timestamp_ns != 0);
		}
	}
}

TEST_CASE("a filter of 200+ instructions is injected and verified")
{
	std::string expression = "tcp port 1";
	for (int port = 2; port <= 40; port++)
		expression += fmt::format(" or udp port {}", port * 7);
	auto oracle = CbpfProgram::compile(expression, DLT_EN10MB);
	REQUIRE(oracle);
	auto compiled = compile_filter(expression, kLinkEthernet);
	REQUIRE(compiled);
	FilterBodies bodies = bodies_for(*compiled);
	REQUIRE(bodies.packet->size() >= 200);
	REQUIRE(bodies.buffer->size() >= 200);
	auto program = FilterTestProgram::load(bodies);
	if (!program)
		FAIL(program.error().message);
	for (const auto &p : corpus()) {
		std::uint32_t want = oracle->run(p.data, p.wire_len);
		CHECK(*program->run(FilterMode::Packet, p.data, p.wire_len) == want);
		CHECK(*program->run(FilterMode::Buffer, p.data, p.wire_len) == want);
	}
}

TEST_CASE("a large packet in buffer mode (fragments beyond the linear XDP buffer)")
{
	// IPv4/UDP to port 9 in a 9000-byte Ethernet frame; the filter reads a
	// byte near the end.
	std::vector<std::uint8_t> frame(9000, 0x5a);
	const std::uint8_t head[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, 0x45, 0, 0x23, 0x1a,
				     0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0, 9};
	std::copy(std::begin(head), std::end(head), frame.begin());
	frame[8990] = 0x77;
	for (const char *expression : {"udp dst port 9 and ether[8990] = 0x77", "ether[8990] = 0x78", "ether[9000] = 0"}) {
		INFO(expression);
		auto oracle = CbpfProgram::compile(expression, DLT_EN10MB);
		auto compiled = compile_filter(expression, kLinkEthernet);
		REQUIRE(oracle);
		REQUIRE(compiled);
		auto buf = translate_to_ebpf(compiled->cbpf, FilterAccess::Buffer);
		REQUIRE(buf);
		FilterBodies bodies;
		bodies.buffer = buf->insns;
		auto program = FilterTestProgram::load(bodies);
		if (!program)
			FAIL(program.error().message);
		auto got = program->run(FilterMode::Buffer, frame, 9000);
		REQUIRE(got);
		CHECK(*got == oracle->run(frame, 9000));
		CHECK_FALSE(program->run(FilterMode::Packet, frame, 9000)); // not loaded
	}
}
