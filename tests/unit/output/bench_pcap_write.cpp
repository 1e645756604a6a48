// SPDX-License-Identifier: GPL-2.0-only
// Not run by default ([.]): how fast the pcap path encodes and writes.
// `test-output "[bench]"` prints packets/s for 64- and 1500-byte frames
// into /dev/null (encoder + buffer + write(2)) and into a file.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>

#include "output/file_sink.hpp"
#include "output/pcap_format.hpp"
#include "output_test_support.hpp"

using namespace capx;
using namespace capx::test;

namespace {

void measure(const std::string &path, std::size_t frame, std::size_t count)
{
	auto packets = udp_series(64, frame, 1'700'000'000'000'000'000ull, 1000);
	FileSink sink(std::make_unique<PcapFormat>(false), FileSinkOptions{path, {}, false, {}});
	CapturePoint point = ethernet_point();
	REQUIRE(sink.begin({&point, 1}));
	std::vector<PacketView> views;
	for (const auto &p : packets)
		views.push_back(p.view());
	auto start = std::chrono::steady_clock::now();
	std::size_t failed = 0;
	for (std::size_t i = 0; i < count; i++)
		failed += !sink.write(views[i % views.size()]);
	REQUIRE(failed == 0);
	REQUIRE(sink.finish());
	double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	std::printf("pcap %4zu-byte frames -> %-24s %6.2f Mpkt/s %7.2f Gbit/s\n", frame, path.c_str(),
		    count / s / 1e6, count * (frame + 16) * 8 / s / 1e9);
}

} // namespace

TEST_CASE("pcap write throughput", "[.][bench]")
{
	TempDir dir;
	for (std::size_t frame : {64, 1500}) {
		measure("/dev/null", frame, frame == 64 ? 20'000'000 : 2'000'000);
		measure(dir / "bench.pcap", frame, frame == 64 ? 5'000'000 : 500'000);
	}
}
