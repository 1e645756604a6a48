// SPDX-License-Identifier: GPL-2.0-only
// tcpdump's test captures, for the decoder tests: where they are, and their
// packets decoded by capx.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "output/pcap_reader.hpp"
#include "output/decode/decode.hpp"

namespace capx::test {

namespace fs = std::filesystem;

// A test that cannot run here exits 77 (meson's skip) and says why.
[[noreturn]] inline void skip_test(const std::string &reason)
{
	std::printf("SKIP: %s\n", reason.c_str());
	std::fflush(stdout);
	std::_Exit(77);
}

// $CAPX_SHARED_PCAPS/tcpdump-tests, sorted; skips the test when absent.
inline std::vector<fs::path> shared_captures()
{
	const char *root = std::getenv("CAPX_SHARED_PCAPS");
	fs::path dir = root ? fs::path(root) / "tcpdump-tests" : fs::path();
	if (dir.empty() || !fs::is_directory(dir))
		skip_test("no shared captures at $CAPX_SHARED_PCAPS/tcpdump-tests");
	std::vector<fs::path> files;
	for (const auto &entry : fs::directory_iterator(dir))
		if (entry.path().extension() == ".pcap" || entry.path().extension() == ".pcapng")
			files.push_back(entry.path());
	std::sort(files.begin(), files.end());
	return files;
}

struct DecodedPacket {
	std::uint64_t timestamp_ns = 0;
	std::string line;
};

// Every record PcapReader can read from `path`, decoded. Stops quietly at a
// malformed record: the reader's own tests judge those.
inline std::vector<DecodedPacket> decode_capture(const fs::path &path)
{
	std::vector<DecodedPacket> packets;
	auto reader = PcapReader::open(path);
	if (!reader)
		return packets;
	for (;;) {
		auto record = reader->next();
		if (!record || !record->has_value())
			break;
		const auto &r = **record;
		std::uint16_t linktype = reader->linktype();
		const auto &per_if = reader->interface_linktypes();
		if (r.interface < per_if.size())
			linktype = per_if[r.interface];
		DecodedPacket p;
		p.timestamp_ns = r.timestamp_ns;
		decode_packet(p.line, linktype, r.data, r.wire_len);
		packets.push_back(std::move(p));
	}
	return packets;
}

} // namespace capx::test
