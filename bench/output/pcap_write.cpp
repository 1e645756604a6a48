// SPDX-License-Identifier: GPL-2.0-only
// pcap-write-bench: how fast the pcap path encodes and writes. Prints
// packets/s for 64- and 1500-byte frames into /dev/null (encoder + buffer
// + write(2)) and into a file in a scratch directory. A benchmark, not a
// test (it moved here from tests/unit/output): run it by hand,
// `build/bench/output/pcap-write-bench`.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "output/file_sink.hpp"
#include "output/pcap_format.hpp"
#include "tests/unit/output/output_test_support.hpp"

using namespace capx;
using namespace capx::test;

namespace {

bool measure(const std::string &path, std::size_t frame, std::size_t count)
{
	auto packets = udp_series(64, frame, 1'700'000'000'000'000'000ull, 1000);
	FileSink sink(std::make_unique<PcapFormat>(false), FileSinkOptions{path, {}, false, {}});
	CapturePoint point = ethernet_point();
	if (auto r = sink.begin({&point, 1}); !r) {
		std::fprintf(stderr, "%s: %s\n", path.c_str(), r.error().message.c_str());
		return false;
	}
	std::vector<PacketView> views;
	for (const auto &p : packets)
		views.push_back(p.view());
	auto start = std::chrono::steady_clock::now();
	std::size_t failed = 0;
	for (std::size_t i = 0; i < count; i++)
		failed += !sink.write(views[i % views.size()]);
	auto finished = sink.finish();
	double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	if (failed || !finished) {
		std::fprintf(stderr, "%s: %zu writes failed%s\n", path.c_str(), failed,
			     finished ? "" : ", and finishing the file");
		return false;
	}
	std::printf("pcap %4zu-byte frames -> %-24s %6.2f Mpkt/s %7.2f Gbit/s\n", frame, path.c_str(),
		    count / s / 1e6, count * (frame + 16) * 8 / s / 1e9);
	return true;
}

} // namespace

int main()
{
	TempDir dir;
	bool ok = true;
	for (std::size_t frame : {64, 1500}) {
		ok &= measure("/dev/null", frame, frame == 64 ? 20'000'000 : 2'000'000);
		ok &= measure(dir / "bench.pcap", frame, frame == 64 ? 5'000'000 : 500'000);
	}
	return ok ? 0 : 1;
}
