// SPDX-License-Identifier: GPL-2.0-only
// pcap files byte for byte against frozen golden files, and read back by
// the real readers: tcpdump -r and capx's PcapReader.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "output/pcap_reader.hpp"
#include "output/file_sink.hpp"
#include "output/pcap_format.hpp"
#include "output_test_support.hpp"

using namespace capx;
using namespace capx::test;

namespace {

std::vector<std::uint8_t> write_pcap(const fs::path &path, bool nano, const std::vector<SamplePacket> &packets)
{
	FileSink sink(std::make_unique<PcapFormat>(nano), FileSinkOptions{path, {}, false, {}});
	CapturePoint points[] = {ethernet_point()};
	auto r = write_all(sink, points, packets);
	INFO((r ? "" : r.error().message));
	REQUIRE(r);
	return read_bytes(path);
}

} // namespace

TEST_CASE("pcap with microseconds matches its golden file and tcpdump reads it", "[output][pcap]")
{
	TempDir dir;
	auto samples = ethernet_samples();
	auto bytes = write_pcap(dir / "us.pcap", false, samples);
	CHECK(bytes == golden("eth-us.pcap", bytes));

	// File header: magic a1b2c3d4 (LE), version 2.4, snaplen, EN10MB.
	REQUIRE(bytes.size() == 24 + 3 * 16 + samples[0].bytes.size() + samples[1].bytes.size() + samples[2].bytes.size());
	CHECK(bytes[0] == 0xd4);
	CHECK(bytes[3] == 0xa1);

	REQUIRE(have_program("tcpdump"));
	auto r = run({"tcpdump", "-r", dir / "us.pcap", "-nn", "-tt"});
	INFO(r.err);
	REQUIRE(r.status == 0);
	auto out = lines(r.out);
	REQUIRE(out.size() == 3);
	CHECK(out[0].starts_with("1700000000.123456 IP 10.0.0.1.40000 > 10.0.0.2.9: UDP, length 4"));
	CHECK(out[1].starts_with("1700000001.000000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 42, seq 1"));
	CHECK(out[2].starts_with("1700000002.999999 IP 10.0.0.1.40001 > 10.0.0.2.80: Flags [S]"));
	CHECK(r.err.find("truncated") == std::string::npos);
}

TEST_CASE("pcap with --nano keeps nanoseconds, as tcpdump shows", "[output][pcap]")
{
	TempDir dir;
	auto bytes = write_pcap(dir / "ns.pcap", true, ethernet_samples());
	CHECK(bytes == golden("eth-ns.pcap", bytes));
	CHECK(bytes[0] == 0x4d); // a1b23c4d, little-endian
	CHECK(bytes[1] == 0x3c);

	REQUIRE(have_program("tcpdump"));
	auto r = run({"tcpdump", "--time-stamp-precision", "nano", "-r", dir / "ns.pcap", "-nn", "-tt"});
	INFO(r.err);
	REQUIRE(r.status == 0);
	auto out = lines(r.out);
	REQUIRE(out.size() == 3);
	CHECK(out[0].starts_with("1700000000.123456789 "));
	CHECK(out[1].starts_with("1700000001.000000999 "));
	CHECK(out[2].starts_with("1700000002.999999001 "));
}

TEST_CASE("PcapReader reads back what the pcap writer wrote", "[output][pcap]")
{
	TempDir dir;
	auto samples = ethernet_samples();
	for (bool nano : {false, true}) {
		INFO("nano " << nano);
		write_pcap(dir / "x.pcap", nano, samples);
		auto reader = PcapReader::open(dir / "x.pcap");
		REQUIRE(reader);
		CHECK(reader->linktype() == kLinkEthernet);
		CHECK(reader->snaplen() == 262144);
		for (const auto &s : samples) {
			auto rec = reader->next();
			REQUIRE(rec);
			REQUIRE(rec->has_value());
			const auto &r = **rec;
			CHECK(r.data == s.bytes);
			CHECK(r.wire_len == s.wire_len);
			CHECK(r.timestamp_ns == (nano ? s.timestamp_ns : s.timestamp_ns / 1000 * 1000));
		}
		auto end = reader->next();
		REQUIRE(end);
		CHECK_FALSE(end->has_value());
	}
}

TEST_CASE("pcap cuts records to the snaplen and keeps the wire length", "[output][pcap]")
{
	PcapFormat format(false);
	CapturePoint point = ethernet_point();
	point.snaplen = 40;
	REQUIRE(format.configure({&point, 1}));
	auto samples = ethernet_samples();
	auto size = format.measure(samples[0].view());
	REQUIRE(size);
	CHECK(*size == 16 + 40);
	std::vector<std::uint8_t> rec(*size);
	format.encode(samples[0].view(), rec.data());
	CHECK(rec[8] == 40);                       // caplen
	CHECK(rec[12] == samples[0].bytes.size()); // wire length
}

TEST_CASE("pcap refuses capture points of different link types and points to pcapng", "[output][pcap]")
{
	PcapFormat format(false);
	CapturePoint eth = ethernet_point("eth0");
	CapturePoint raw = ethernet_point("ip_rcv");
	raw.linktype = kLinkRaw;
	CapturePoint points[] = {eth, raw};
	auto r = format.configure(points);
	REQUIRE_FALSE(r);
	CHECK(r.error().status == ExitStatus::Usage);
	CHECK(r.error().message == "pcap holds one link type per file, but eth0 is EN10MB and ip_rcv is RAW");
	CHECK(r.error().hint.find("--pcapng") != std::string::npos);
}
