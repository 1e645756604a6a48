// SPDX-License-Identifier: GPL-2.0-only
// PcapReader against libpcap's own reader (pcap_open_offline) on every
// capture of tcpdump's test suite: same records, same bytes, same times.
#include <catch2/catch.hpp>

#include <pcap/pcap.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "output/pcap_reader.hpp"

using namespace capx;
namespace fs = std::filesystem;

namespace {

fs::path shared_pcaps()
{
	const char *dir = std::getenv("CAPX_SHARED_PCAPS");
	return dir ? fs::path(dir) / "tcpdump-tests" : fs::path();
}

} // namespace

TEST_CASE("PcapReader reads what libpcap reads", "[capture][pcap]")
{
	fs::path dir = shared_pcaps();
	// ../shared sits beside the checkout, in CI too.
	REQUIRE(fs::is_directory(dir));
	std::size_t files = 0, records = 0, libpcap_rejects = 0;
	for (const auto &entry : fs::directory_iterator(dir)) {
		if (entry.path().extension() != ".pcap" && entry.path().extension() != ".pcapng")
			continue;
		char err[PCAP_ERRBUF_SIZE];
		std::unique_ptr<pcap_t, decltype(&pcap_close)> ref(
			pcap_open_offline_with_tstamp_precision(entry.path().c_str(), PCAP_TSTAMP_PRECISION_NANO, err),
			&pcap_close);
		auto ours = PcapReader::open(entry.path());
		if (!ref) {
			libpcap_rejects++;
			continue;
		}
		INFO(entry.path().filename().string());
		REQUIRE(ours);
		CHECK(ours->linktype() == pcap_datalink(ref.get()));
		files++;
		for (;;) {
			pcap_pkthdr *h;
			const u_char *data;
			int rc = pcap_next_ex(ref.get(), &h, &data);
			auto rec = ours->next();
			if (rc != 1) {
				// libpcap stops at end of file (-2) or at a bad record (-1).
				if (rc == -2)
					CHECK((rec && !rec->has_value()));
				else
					CHECK_FALSE((rec && rec->has_value()));
				break;
			}
			REQUIRE(rec);
			REQUIRE(rec->has_value());
			const auto &r = **rec;
			records++;
			CHECK(r.wire_len == h->len);
			REQUIRE(r.data.size() == h->caplen);
			CHECK(std::memcmp(r.data.data(), data, h->caplen) == 0);
			// libpcap 1.10 reads the seconds field as signed 32 bits; the
			// file format (pcap-savefile(5)) says unsigned, as capx does.
			std::uint64_t sec = static_cast<std::uint32_t>(h->ts.tv_sec);
			std::uint64_t ns = sec * 1'000'000'000ull + std::uint64_t(h->ts.tv_usec);
			// A fraction beyond one second is garbage in the file (fuzzed
			// captures); libpcap and capx scale it differently.
			if (h->ts.tv_usec >= 0 && h->ts.tv_usec < 1'000'000'000)
				CHECK(r.timestamp_ns == ns);
		}
	}
	INFO("files " << files << " records " << records << " rejected by libpcap " << libpcap_rejects);
	CHECK(files > 300);
	CHECK(records > 1000);
}

TEST_CASE("PcapReader refuses what is not a capture", "[capture][pcap]")
{
	auto r = PcapReader::open("/etc/hostname");
	REQUIRE_FALSE(r);
	auto missing = PcapReader::open("/nonexistent/x.pcap");
	REQUIRE_FALSE(missing);
	CHECK(missing.error().message == "open /nonexistent/x.pcap: No such file or directory");
}
