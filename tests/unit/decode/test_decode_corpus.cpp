// SPDX-License-Identifier: GPL-2.0-only
// Robustness: every packet of tcpdump's 402 test captures (many fuzzed or
// cut short on purpose), decoded whole, cut at every length, and read as
// each link type capx knows. Built twice: plainly, and with AddressSanitizer
// and UBSan, where each cut copy sits in a buffer of exactly its size so a
// read one byte too far is caught.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "core/packet.hpp"
#include "corpus.hpp"

using namespace capx;

namespace {

// Cutting every packet at every length up to here covers all the headers
// capx decodes (VLAN stacks, IPv6 extension chains, TCP options) without
// making the sanitized run slow.
constexpr std::size_t kCutLimit = 160;

bool printable_line(const std::string &line)
{
	if (line.empty())
		return false;
	for (unsigned char c : line)
		if (c < 0x20 || c == 0x7f)
			return false;
	return true;
}

} // namespace

TEST_CASE("decoder survives every packet of tcpdump's captures", "[decode][corpus]")
{
	auto files = test::shared_captures();
	std::size_t packets = 0, decodes = 0;
	const std::uint16_t linktypes[] = {kLinkEthernet, kLinkLinuxSll, kLinkLinuxSll2, kLinkRaw};
	for (const auto &path : files) {
		auto reader = PcapReader::open(path);
		if (!reader)
			continue;
		for (;;) {
			auto record = reader->next();
			if (!record || !record->has_value())
				break;
			const auto &data = (*record)->data;
			packets++;
			std::string line;
			for (std::uint16_t linktype : linktypes) {
				auto decode_cut = [&](std::size_t n) {
					// Exactly n bytes on the heap: ASan flags the byte after.
					std::vector<std::uint8_t> copy(data.begin(), data.begin() + n);
					line.clear();
					decode_packet(line, linktype, copy, (*record)->wire_len);
					decodes++;
					if (!printable_line(line))
						FAIL_CHECK(path.filename().string() << " packet " << packets << " cut " << n
							   << ": bad line '" << line << "'");
				};
				for (std::size_t n = 0; n < std::min(data.size(), kCutLimit); n++)
					decode_cut(n);
				decode_cut(data.size());
			}
		}
	}
	std::printf("decoded %zu packets of %zu captures, %zu decodes (cuts x 4 link types)\n",
		    packets, files.size(), decodes);
	CHECK(files.size() >= 400);
	CHECK(packets > 7900);
}
