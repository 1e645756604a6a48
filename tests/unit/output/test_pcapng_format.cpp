// SPDX-License-Identifier: GPL-2.0-only
// pcapng byte for byte against a frozen golden file, read back by tshark
// (interface names, direction flags, comments, drop counts, packet ids,
// queues, XDP verdicts) and by capx's PcapReader.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "output/pcap_reader.hpp"
#include "output/file_sink.hpp"
#include "output/packet_meta_text.hpp"
#include "output/pcapng_format.hpp"
#include "output_test_support.hpp"

using namespace capx;
using namespace capx::test;

namespace {

const PcapngIdentity kIdentity{"Linux 6.18.0-test", "capx test"};

std::vector<CapturePoint> two_points()
{
	CapturePoint eth = ethernet_point("eth0");
	eth.description = "AF_PACKET TPACKET_V3 ring";
	eth.filter = "udp or icmp or tcp";
	CapturePoint raw;
	raw.name = "ip_rcv";
	raw.description = "tracepoint at IP input";
	raw.linktype = kLinkRaw;
	raw.snaplen = 128;
	raw.os = "Linux 6.1.0-vm";
	return {eth, raw};
}

std::vector<SamplePacket> samples_with_meta()
{
	auto eth = ethernet_samples();
	std::vector<SamplePacket> out;

	SamplePacket a = eth[0];
	a.meta.direction = Direction::Inbound;
	a.meta.ifindex = 2;
	a.meta.cpu = 1;
	a.meta.pid = 42;
	a.comm = "curl";
	a.meta.drops_before = 3;
	a.meta.skb = 0xffff888012345678ull;
	a.meta.packet_id = 0xffff888012345678ull;
	a.meta.queue = 1;
	out.push_back(a);

	SamplePacket b = raw_ipv4_sample();
	b.capture_point = 1;
	b.meta.direction = Direction::Outbound;
	b.meta.xdp_verdict = 2; // XDP_PASS
	out.push_back(b);

	out.push_back(eth[2]); // no metadata at all
	return out;
}

std::vector<std::uint8_t> write_pcapng(const fs::path &path)
{
	FileSink sink(std::make_unique<PcapngFormat>(kIdentity), FileSinkOptions{path, {}, false, {}});
	auto points = two_points();
	auto r = write_all(sink, points, samples_with_meta());
	INFO((r ? "" : r.error().message));
	REQUIRE(r);
	return read_bytes(path);
}

} // namespace

TEST_CASE("pcapng matches its golden file", "[output][pcapng]")
{
	TempDir dir;
	auto bytes = write_pcapng(dir / "multi.pcapng");
	CHECK(bytes == golden("multi.pcapng", bytes));
	// Every block length is a multiple of 4 and repeated at its end.
	std::size_t off = 0, blocks = 0;
	while (off + 12 <= bytes.size()) {
		std::uint32_t len = bytes[off + 4] | bytes[off + 5] << 8 | bytes[off + 6] << 16 | std::uint32_t(bytes[off + 7]) << 24;
		REQUIRE(len % 4 == 0);
		REQUIRE(off + len <= bytes.size());
		CHECK(std::equal(bytes.begin() + off + 4, bytes.begin() + off + 8, bytes.begin() + off + len - 4));
		off += len;
		blocks++;
	}
	CHECK(off == bytes.size());
	CHECK(blocks == 1 + 2 + 3); // SHB, two IDBs, three EPBs
}

TEST_CASE("tshark reads pcapng interfaces, flags, comments and counters", "[output][pcapng]")
{
	TempDir dir;
	write_pcapng(dir / "multi.pcapng");
	REQUIRE(have_program("tshark"));
	auto r = run({"tshark", "-r", dir / "multi.pcapng", "-T", "fields", "-E", "separator=|",
		      "-e", "frame.interface_name", "-e", "frame.interface_description",
		      "-e", "frame.packet_flags_direction", "-e", "frame.comment", "-e", "frame.drop_count",
		      "-e", "frame.packet_id", "-e", "frame.interface_queue", "-e", "frame.verdict.ebpf_xdp",
		      "-e", "frame.time_epoch", "-e", "frame.cap_len", "-e", "frame.len", "-e", "ip.dst"});
	INFO(r.err);
	REQUIRE(r.status == 0);
	auto out = lines(r.out);
	REQUIRE(out.size() == 3);
	auto samples = samples_with_meta();
	std::string comment = describe_meta(samples[0].view().meta);
	CHECK(comment == "dev=2 queue=1 cpu=1 pid=42 comm=curl skb=0xffff888012345678");
	CHECK(out[0] == fmt::format("eth0|AF_PACKET TPACKET_V3 ring|0x00000001|{}|3|18446612682375452280|1||"
				    "1700000000.123456789|46|46|10.0.0.2",
				    comment));
	CHECK(out[1] == "ip_rcv|tracepoint at IP input|0x00000002|verdict=pass||||2|1700000003.000000500|32|32|10.0.0.2");
	CHECK(out[2] == "eth0|AF_PACKET TPACKET_V3 ring|||||||1700000002.999999001|54|1514|10.0.0.2");
}

TEST_CASE("capinfos shows the section and interface blocks as written", "[output][pcapng]")
{
	TempDir dir;
	write_pcapng(dir / "multi.pcapng");
	REQUIRE(have_program("capinfos"));
	auto r = run({"capinfos", "-M", dir / "multi.pcapng"});
	INFO(r.err);
	REQUIRE(r.status == 0);
	for (const char *want : {"Capture oper-sys:    Linux 6.18.0-test", "Capture application: capx test",
				 "Number of interfaces in file: 2", "Interface #0 info:", "Name = eth0",
				 "Capture length = 262144", "Time precision = nanoseconds (9)",
				 "Filter string = udp or icmp or tcp", "Name = ip_rcv", "Capture length = 128",
				 "Encapsulation = Raw IP", "Operating system = Linux 6.1.0-vm"}) {
		INFO(want << "\n" << r.out);
		CHECK(r.out.find(want) != std::string::npos);
	}
}

TEST_CASE("PcapReader reads back what the pcapng writer wrote", "[output][pcapng]")
{
	TempDir dir;
	write_pcapng(dir / "multi.pcapng");
	auto reader = PcapReader::open(dir / "multi.pcapng");
	REQUIRE(reader);
	CHECK(reader->is_pcapng());
	for (const auto &s : samples_with_meta()) {
		auto rec = reader->next();
		REQUIRE(rec);
		REQUIRE(rec->has_value());
		CHECK((*rec)->data == s.bytes);
		CHECK((*rec)->wire_len == s.wire_len);
		CHECK((*rec)->timestamp_ns == s.timestamp_ns);
		CHECK((*rec)->interface == s.capture_point);
	}
	auto end = reader->next();
	REQUIRE(end);
	CHECK_FALSE(end->has_value());
	CHECK(reader->interface_linktypes() == std::vector<std::uint16_t>{kLinkEthernet, kLinkRaw});
}

TEST_CASE("pcapng refuses a packet from an undeclared capture point", "[output][pcapng]")
{
	PcapngFormat format(kIdentity);
	CapturePoint point = ethernet_point();
	REQUIRE(format.configure({&point, 1}));
	auto s = ethernet_samples()[0];
	s.capture_point = 1;
	auto r = format.measure(s.view());
	REQUIRE_FALSE(r);
	CHECK(r.error().message == "packet from capture point 1, but only 1 were declared");
}

TEST_CASE("pcapng names this host and capx by default", "[output][pcapng]")
{
	auto id = PcapngIdentity::of_this_host();
	CHECK(id.os.starts_with("Linux "));
	CHECK(id.application.starts_with("capx "));
}
