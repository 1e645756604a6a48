// SPDX-License-Identifier: GPL-2.0-only
// A real full disk: a 64 KiB tmpfs mounted for the test. capx must report
// ENOSPC in one line and leave a file that tcpdump reads to its end, with
// no truncated record. Needs root (mount); exits 77 (skip) without it.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "output/pcap_reader.hpp"
#include "output/file_sink.hpp"
#include "output/pcap_format.hpp"
#include "output/pcapng_format.hpp"
#include "tests/unit/output/output_test_support.hpp"

using namespace capx;
using namespace capx::test;

namespace {

class SmallTmpfs {
public:
	SmallTmpfs()
	{
		mounted_ = ::mount("capx-test", dir_.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") == 0;
		error_ = errno;
	}
	~SmallTmpfs()
	{
		if (mounted_)
			::umount2(dir_.path().c_str(), MNT_DETACH);
	}
	bool mounted() const { return mounted_; }
	int error() const { return error_; }
	fs::path operator/(const std::string &name) const { return dir_ / name; }

private:
	TempDir dir_;
	bool mounted_ = false;
	int error_ = 0;
};

void check_fills_disk(bool pcapng)
{
	SmallTmpfs disk;
	REQUIRE(disk.mounted());
	std::string name = pcapng ? "full.pcapng" : "full.pcap";
	std::unique_ptr<RecordFormat> format;
	if (pcapng)
		format = std::make_unique<PcapngFormat>(PcapngIdentity{"test", "capx test"});
	else
		format = std::make_unique<PcapFormat>(false);
	FileSink sink(std::move(format), FileSinkOptions{disk / name, {}, false, {}});
	CapturePoint point = ethernet_point();
	// 200 KB of 333-byte frames into 64 KiB: the disk fills inside a record.
	auto packets = udp_series(600, 333, 1'700'000'000'000'000'000ull, 1000);
	auto r = write_all(sink, {&point, 1}, packets);
	REQUIRE_FALSE(r);
	CHECK(r.error().message == "write " + (disk / name).string() + ": No space left on device");
	CHECK_FALSE(r.error().orderly_end);

	auto reader = PcapReader::open(disk / name);
	REQUIRE(reader);
	std::size_t n = 0;
	for (;;) {
		auto rec = reader->next();
		INFO((rec ? "" : rec.error().message));
		REQUIRE(rec); // a truncated record would fail here
		if (!rec->has_value())
			break;
		CHECK((*rec)->data == packets[n].bytes);
		n++;
	}
	CHECK(n > 100);
	CHECK(n < packets.size());

	auto t = run({"tcpdump", "-r", disk / name, "-nn"});
	INFO(t.err);
	CHECK(t.status == 0);
	CHECK(lines(t.out).size() == n);
	CHECK(t.err.find("truncated") == std::string::npos);
}

} // namespace

TEST_CASE("a full disk leaves whole pcap records that tcpdump reads to the end", "[output][diskfull]")
{
	check_fills_disk(false);
}

TEST_CASE("a full disk leaves whole pcapng blocks that tcpdump reads to the end", "[output][diskfull]")
{
	check_fills_disk(true);
}

int main(int argc, char **argv)
{
	if (::geteuid() != 0) {
		std::puts("skipped: mounting a small tmpfs needs root");
		return 77;
	}
	{
		SmallTmpfs probe;
		if (!probe.mounted()) {
			std::printf("skipped: cannot mount a tmpfs here: %s\n", std::strerror(probe.error()));
			return 77;
		}
	}
	if (!have_program("tcpdump")) {
		std::puts("skipped: tcpdump is not installed");
		return 77;
	}
	return Catch::Session().run(argc, argv);
}
