// SPDX-License-Identifier: GPL-2.0-only
// Rotation with tcpdump's rules: -C (FILE, FILE1 ...; with -W a ring with
// zero-padded numbers), -G (strftime names, packet time, new file every
// SECONDS; with -W an orderly end after N files). Every file must be read
// to its end by tcpdump (or tshark for pcapng).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

#include "output/pcap_reader.hpp"
#include "output/file_sink.hpp"
#include "output/pcap_format.hpp"
#include "output/pcapng_format.hpp"
#include "output/rotation_name.hpp"
#include "output_test_support.hpp"

using namespace capx;
using namespace capx::test;

namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ull;
constexpr std::uint64_t kStart = 1'700'000'000ull * kSecond; // 2023-11-14 22:13:20 UTC

void use_utc()
{
	::setenv("TZ", "UTC", 1);
	::tzset();
}

std::vector<std::string> files_in(const fs::path &dir)
{
	std::vector<std::string> names;
	for (const auto &e : fs::directory_iterator(dir))
		names.push_back(e.path().filename());
	std::sort(names.begin(), names.end());
	return names;
}

// The packets tcpdump reads from `path`, checking it reads to the end.
std::size_t tcpdump_count(const fs::path &path)
{
	auto r = run({"tcpdump", "-r", path, "-nn"});
	INFO(path << ": " << r.err);
	CHECK(r.status == 0);
	CHECK(r.err.find("truncated") == std::string::npos);
	return lines(r.out).size();
}

std::vector<std::uint64_t> timestamps(const fs::path &path)
{
	std::vector<std::uint64_t> out;
	auto reader = PcapReader::open(path);
	REQUIRE(reader);
	for (;;) {
		auto rec = reader->next();
		REQUIRE(rec);
		if (!rec->has_value())
			return out;
		out.push_back((*rec)->timestamp_ns);
	}
}

FileSink rotating_sink(const fs::path &path, RotationOptions rotation, bool pcapng = false)
{
	std::unique_ptr<RecordFormat> format;
	if (pcapng)
		format = std::make_unique<PcapngFormat>(PcapngIdentity{"test", "capx test"});
	else
		format = std::make_unique<PcapFormat>(true);
	return FileSink(std::move(format), FileSinkOptions{path, rotation, false, [] { return kStart; }});
}

} // namespace

TEST_CASE("ring digits follow tcpdump's -W padding", "[output][rotation]")
{
	CHECK(ring_digits(1) == 0);
	CHECK(ring_digits(2) == 1);
	CHECK(ring_digits(10) == 1);
	CHECK(ring_digits(11) == 2);
	CHECK(ring_digits(100) == 2);
	CHECK(ring_digits(101) == 3);
}

TEST_CASE("rotated file names follow tcpdump's MakeFilename", "[output][rotation]")
{
	use_utc();
	CHECK(*rotation_file_name("x.pcap", std::nullopt, 0, 0) == "x.pcap");
	CHECK(*rotation_file_name("x.pcap", std::nullopt, 3, 0) == "x.pcap3");
	CHECK(*rotation_file_name("x.pcap", std::nullopt, 3, 2) == "x.pcap03");
	CHECK(*rotation_file_name("x.pcap", std::nullopt, 0, 2) == "x.pcap00");
	CHECK(*rotation_file_name("cap-%Y%m%d-%H%M%S.pcap", 1'700'000'000, 0, 0) == "cap-20231114-221320.pcap");
	CHECK(*rotation_file_name("cap-%H%M%S.pcap", 1'700'000'000, 7, 1) == "cap-221320.pcap7");
	// A pattern that expands to nothing is refused, not an empty name.
	CHECK_FALSE(rotation_file_name("", 1'700'000'000, 0, 0));
}

TEST_CASE("-C starts FILE1, FILE2 ... before a file would pass the size", "[output][rotation]")
{
	TempDir dir;
	CapturePoint point = ethernet_point();
	// 24-byte header + 116-byte records: 5 records fit in 604 bytes.
	auto packets = udp_series(12, 100, kStart, kSecond / 10);
	auto sink = rotating_sink(dir / "x.pcap", {600 + 4, std::nullopt, std::nullopt});
	REQUIRE(write_all(sink, {&point, 1}, packets));

	CHECK(files_in(dir.path()) == std::vector<std::string>{"x.pcap", "x.pcap1", "x.pcap2"});
	CHECK(fs::file_size(dir / "x.pcap") == 24 + 5 * 116);
	CHECK(fs::file_size(dir / "x.pcap1") == 24 + 5 * 116);
	CHECK(fs::file_size(dir / "x.pcap2") == 24 + 2 * 116);
	REQUIRE(have_program("tcpdump"));
	CHECK(tcpdump_count(dir / "x.pcap") == 5);
	CHECK(tcpdump_count(dir / "x.pcap1") == 5);
	CHECK(tcpdump_count(dir / "x.pcap2") == 2);
	CHECK(timestamps(dir / "x.pcap2").front() == packets[10].timestamp_ns);
}

TEST_CASE("-C with -W keeps a ring of N zero-padded files", "[output][rotation]")
{
	TempDir dir;
	CapturePoint point = ethernet_point();
	auto packets = udp_series(4 * 12 + 1, 100, kStart, kSecond / 10);
	// Four records per file, a ring of 11 files: numbers 00..10.
	auto sink = rotating_sink(dir / "r.pcap", {24 + 4 * 116, std::nullopt, 11});
	REQUIRE(write_all(sink, {&point, 1}, packets));

	std::vector<std::string> want;
	for (int i = 0; i <= 10; i++)
		want.push_back(fmt::format("r.pcap{:02}", i));
	CHECK(files_in(dir.path()) == want);
	// 49 records = 12 full files and one record: the ring went round once,
	// r.pcap00 (file 11) holds 4 and r.pcap01 (file 12) the newest one.
	REQUIRE(have_program("tcpdump"));
	CHECK(tcpdump_count(dir / "r.pcap01") == 1);
	CHECK(timestamps(dir / "r.pcap01") == std::vector<std::uint64_t>{packets.back().timestamp_ns});
	CHECK(timestamps(dir / "r.pcap00").front() == packets[44].timestamp_ns);
	for (int i = 2; i <= 10; i++)
		CHECK(tcpdump_count(dir / fmt::format("r.pcap{:02}", i)) == 4);
}

TEST_CASE("-G names files by strftime and moves on by packet time", "[output][rotation]")
{
	use_utc();
	TempDir dir;
	CapturePoint point = ethernet_point();
	std::vector<SamplePacket> packets;
	for (std::uint64_t s : {1, 5, 12, 25, 40})
		packets.push_back(udp_series(1, 100, kStart + s * kSecond, 0)[0]);
	auto sink = rotating_sink(dir / "g-%H%M%S.pcap", {std::nullopt, 10, std::nullopt});
	REQUIRE(write_all(sink, {&point, 1}, packets));

	// Slots start at the capture start (22:13:20) and then at the packet
	// that opened each new file, as tcpdump's Gflag_time does.
	CHECK(files_in(dir.path()) ==
	      std::vector<std::string>{"g-221320.pcap", "g-221332.pcap", "g-221345.pcap", "g-221400.pcap"});
	REQUIRE(have_program("tcpdump"));
	CHECK(tcpdump_count(dir / "g-221320.pcap") == 2);
	CHECK(tcpdump_count(dir / "g-221332.pcap") == 1);
	CHECK(tcpdump_count(dir / "g-221345.pcap") == 1);
	CHECK(tcpdump_count(dir / "g-221400.pcap") == 1);
}

TEST_CASE("-G with -W ends the capture in order after N files", "[output][rotation]")
{
	use_utc();
	TempDir dir;
	CapturePoint point = ethernet_point();
	auto sink = rotating_sink(dir / "g-%H%M%S.pcap", {std::nullopt, 10, 3});
	REQUIRE(sink.begin({&point, 1}));
	std::size_t written = 0;
	Result<void> r;
	for (std::uint64_t s : {1, 5, 12, 25, 40, 41}) {
		r = sink.write(udp_series(1, 100, kStart + s * kSecond, 0)[0].view());
		if (!r)
			break;
		written++;
	}
	REQUIRE_FALSE(r);
	CHECK(r.error().orderly_end); // an orderly end: exit 0
	CHECK(r.error().message == "maximum file limit reached: 3");
	CHECK(written == 4);
	CHECK(sink.finish());
	CHECK(files_in(dir.path()) == std::vector<std::string>{"g-221320.pcap", "g-221332.pcap", "g-221345.pcap"});
	REQUIRE(have_program("tcpdump"));
	CHECK(tcpdump_count(dir / "g-221345.pcap") == 1);
}

TEST_CASE("-C within -G slots numbers files per slot, like tcpdump", "[output][rotation]")
{
	use_utc();
	TempDir dir;
	CapturePoint point = ethernet_point();
	std::vector<SamplePacket> packets;
	for (std::uint64_t s : {1, 2, 3, 4, 5, 12, 13})
		packets.push_back(udp_series(1, 100, kStart + s * kSecond, 0)[0]);
	// Two records per file, a ring of 3 per slot (one digit), 10 s slots.
	auto sink = rotating_sink(dir / "c-%H%M%S.pcap", {24 + 2 * 116, 10, 3});
	REQUIRE(write_all(sink, {&point, 1}, packets));
	// Slot 22:13:20: 5 packets -> files 0, 1, 2 (2 + 2 + 1); slot 22:13:32
	// starts again at 0. -W with -C is the ring size, not a stop.
	CHECK(files_in(dir.path()) == std::vector<std::string>{"c-221320.pcap0", "c-221320.pcap1", "c-221320.pcap2",
							      "c-221332.pcap0"});
	REQUIRE(have_program("tcpdump"));
	CHECK(tcpdump_count(dir / "c-221320.pcap2") == 1);
	CHECK(tcpdump_count(dir / "c-221332.pcap0") == 2);
}

TEST_CASE("rotated pcapng files each start with SHB and IDBs", "[output][rotation]")
{
	TempDir dir;
	CapturePoint points[] = {ethernet_point("eth0"), ethernet_point("eth1")};
	auto packets = udp_series(9, 100, kStart, kSecond / 10);
	for (std::size_t i = 0; i < packets.size(); i++)
		packets[i].capture_point = static_cast<std::uint32_t>(i % 2);
	auto header = [&] {
		PcapngFormat f(PcapngIdentity{"test", "capx test"});
		REQUIRE(f.configure(points));
		return f.file_header().size();
	}();
	// EPB for 100 bytes: 28 + 100 + 4 = 132; three per file.
	auto sink = rotating_sink(dir / "n.pcapng", {header + 3 * 132, std::nullopt, std::nullopt}, true);
	REQUIRE(write_all(sink, points, packets));
	CHECK(files_in(dir.path()) == std::vector<std::string>{"n.pcapng", "n.pcapng1", "n.pcapng2"});
	REQUIRE(have_program("tshark"));
	for (const char *name : {"n.pcapng", "n.pcapng1", "n.pcapng2"}) {
		auto r = run({"tshark", "-r", dir / name, "-T", "fields", "-e", "frame.interface_name"});
		INFO(name << ": " << r.err);
		CHECK(r.status == 0);
		CHECK(lines(r.out).size() == 3);
	}
	auto r = run({"tshark", "-r", dir / "n.pcapng1", "-T", "fields", "-e", "frame.interface_name"});
	CHECK(lines(r.out) == std::vector<std::string>{"eth1", "eth0", "eth1"});
}
