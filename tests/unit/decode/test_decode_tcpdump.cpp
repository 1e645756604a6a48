// SPDX-License-Identifier: GPL-2.0-only
// Differential: capx's decoded lines against `tcpdump -nn -S` on tcpdump's
// own test captures. For the protocols capx decodes (Ethernet, VLAN, ARP,
// IPv4, IPv6, TCP, UDP, ICMP, ICMPv6) the essential fields must agree:
// protocol, addresses, ports, TCP flags/seq/ack/win, lengths, ICMP types.
// Packets tcpdump decodes deeper (DNS over UDP...) are compared up to what
// capx prints; broken packets, where each tool has its own words, are not.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "corpus.hpp"

using namespace capx;

namespace {

constexpr std::uint64_t kNoTimestamp = ~std::uint64_t(0);

struct TcpdumpPacket {
	std::uint64_t timestamp_us = 0;
	std::string line; // without the timestamp
};

// Runs tcpdump on `path`; continuation lines (hex dumps) are dropped.
std::vector<TcpdumpPacket> run_tcpdump(const test::fs::path &path, bool link_level)
{
	std::string command = "tcpdump -nn -S -tt ";
	if (link_level)
		command += "-e ";
	command += "-r '" + path.string() + "' 2>/dev/null";
	std::vector<TcpdumpPacket> packets;
	std::unique_ptr<std::FILE, int (*)(std::FILE *)> pipe(::popen(command.c_str(), "r"), ::pclose);
	if (!pipe)
		return packets;
	char *buf = nullptr;
	std::size_t cap = 0;
	ssize_t n;
	while ((n = ::getline(&buf, &cap, pipe.get())) > 0) {
		std::string text(buf, static_cast<std::size_t>(n));
		while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
			text.pop_back();
		// A record tcpdump refuses (caplen 0) still takes its place.
		if (text.starts_with("[Invalid header")) {
			packets.push_back({kNoTimestamp, {}});
			continue;
		}
		// "SECONDS.MICROS rest"; anything else continues the line before.
		// (Parsed by hand: std::regex recurses per character and overflows
		// the stack on tcpdump's longest lines.)
		std::size_t dot = text.find('.'), space = text.find(' ');
		if (dot == 0 || dot == std::string::npos || space != dot + 7 ||
		    text.find_first_not_of("0123456789") != dot ||
		    text.find_first_not_of("0123456789", dot + 1) != space)
			continue;
		packets.push_back({std::stoull(text.substr(0, dot)) * 1'000'000 + std::stoull(text.substr(dot + 1, 6)),
				   text.substr(space + 1)});
	}
	std::free(buf);
	return packets;
}

bool have_tcpdump()
{
	return std::system("tcpdump --version >/dev/null 2>&1") == 0;
}

struct Verdict {
	std::string category; // empty: not compared
	std::string mismatch; // empty: agreed
};

std::string first_match(const std::string &s, const std::regex &re, int group = 1)
{
	std::smatch m;
	return std::regex_search(s, m, re) ? m[group].str() : std::string("-");
}

// tcpdump prints TCP as "Flags [P.], seq 1:59, ack 1, win 64240, options
// [...], length 58" followed by whatever it decodes of the payload.
std::string tcp_key(const std::string &rest)
{
	static const std::regex kFlags(R"(^Flags \[([^\]]*)\])");
	static const std::regex kSeq(R"(, seq (\d+(:\d+)?))");
	static const std::regex kAck(R"(, ack (\d+))");
	static const std::regex kWin(R"(, win (\d+))");
	static const std::regex kLength(R"(, length (\d+))");
	return "flags=" + first_match(rest, kFlags) + " seq=" + first_match(rest, kSeq) +
	       " ack=" + first_match(rest, kAck) + " win=" + first_match(rest, kWin) +
	       " length=" + first_match(rest, kLength);
}

// IPv6 extension headers: both tools print them differently; strip them
// and compare what follows.
std::string strip_ipv6_extensions(const std::string &rest)
{
	static const std::regex kExt(R"(^((HBH|DSTOPT) |RT6 \([^)]*\) |frag \([^)]*\) ))");
	std::string s = rest;
	for (;;) {
		std::smatch m;
		if (!std::regex_search(s, m, kExt))
			return s;
		s = m.suffix();
	}
}

// "IP6 SRC > DST: REST" split by hand (see run_tcpdump on std::regex).
struct IpLine {
	std::string family, src, dst, rest;
};

bool split_ip(const std::string &line, IpLine &out)
{
	std::size_t at;
	if (line.starts_with("IP "))
		at = 3;
	else if (line.starts_with("IP6 "))
		at = 4;
	else
		return false;
	out.family = line.substr(0, at - 1);
	std::size_t gt = line.find(" > ", at);
	if (gt == std::string::npos || line.find(' ', at) != gt)
		return false;
	std::size_t colon = line.find(": ", gt + 3);
	if (colon == std::string::npos || line.find(' ', gt + 3) != colon + 1)
		return false;
	out.src = line.substr(at, gt - at);
	out.dst = line.substr(gt + 3, colon - gt - 3);
	out.rest = line.substr(colon + 2);
	return true;
}

// "1234 > 80: REST" after IPv6 extension headers.
bool split_ports(const std::string &s, std::string &sport, std::string &dport, std::string &rest)
{
	std::size_t gt = s.find(" > ");
	if (gt == 0 || gt == std::string::npos || s.find_first_not_of("0123456789") != gt)
		return false;
	std::size_t colon = s.find(": ", gt + 3);
	if (colon == std::string::npos || s.find_first_not_of("0123456789", gt + 3) != colon)
		return false;
	sport = s.substr(0, gt);
	dport = s.substr(gt + 3, colon - gt - 3);
	rest = s.substr(colon + 2);
	return true;
}

Verdict compare(const std::string &mine_raw, const std::string &theirs)
{
	// Broken packets: each tool words them its own way.
	for (const char *word : {"[|", "bad", "truncated"})
		if (mine_raw.find(word) != std::string::npos)
			return {};
	// VLAN tags are checked against tcpdump -e separately.
	static const std::regex kVlan(R"(vlan \d+, p \d+(, DEI)?, )");
	std::string mine = std::regex_replace(mine_raw, kVlan, "");
	auto differ = [&](const char *category) {
		return Verdict{category, "capx: " + mine_raw + "\n  tcpdump: " + theirs};
	};
	auto judge = [&](const char *category, bool same) {
		return same ? Verdict{category, {}} : differ(category);
	};

	if (mine.starts_with("ARP, Request who-has") || mine.starts_with("ARP, Reply"))
		return judge("arp", mine == theirs);

	// Segmentation offload: IPv4 total length 0 (TSO, BIG TCP). capx takes
	// the length from the link layer; tcpdump 4.99 only says "bad-len 0".
	if (theirs == "IP bad-len 0")
		return {};
	IpLine m, t;
	if (!split_ip(mine, m))
		return {};
	if (!split_ip(theirs, t))
		return differ("ip");
	std::string family = m.family;
	bool same_addresses = m.family == t.family && m.src == t.src && m.dst == t.dst;
	std::string rest = m.rest, their_rest = t.rest;

	// capx's IPv4 fragment note; later fragments carry no transport header.
	static const std::regex kFrag(R"( \(frag \d+:\d+@(\d+)\+?\)$)");
	std::smatch f;
	if (std::regex_search(rest, f, kFrag)) {
		if (f[1] != "0")
			return judge("ipv4-fragment", same_addresses);
		rest = f.prefix();
	}
	if (family == "IP6") {
		std::string stripped = strip_ipv6_extensions(rest);
		if (stripped != rest) {
			rest = stripped;
			their_rest = strip_ipv6_extensions(their_rest);
			// After extension headers both print the ports alone.
			std::string msport, mdport, mrest, tsport, tdport, trest;
			bool mine_ports = split_ports(rest, msport, mdport, mrest);
			bool their_ports = split_ports(their_rest, tsport, tdport, trest);
			if (mine_ports != their_ports || !same_addresses)
				return differ("ipv6-extensions");
			if (mine_ports) {
				if (msport != tsport || mdport != tdport)
					return differ("ipv6-extensions");
				rest = mrest;
				their_rest = trest;
			}
		}
	}

	// Only packets whose transport capx decodes are compared; the others
	// (DCCP, SCTP...) have ports in tcpdump's line and not in capx's.
	auto judge_ip = [&](const char *category, bool same) {
		return judge(category, same && same_addresses);
	};
	if (rest.starts_with("Flags ["))
		return judge_ip(family == "IP" ? "tcp4" : "tcp6", tcp_key(rest) == tcp_key(their_rest));
	if (rest.starts_with("UDP, length")) {
		// tcpdump decodes well-known ports (DNS, NTP, ESP in UDP...): then only the
		// addresses and ports above are comparable.
		if (!their_rest.starts_with("UDP, length"))
			return judge_ip("udp-ports", true);
		return judge_ip("udp", rest == their_rest);
	}
	if (rest.starts_with("ICMP echo") || rest.find("unreachable") != std::string::npos)
		return judge_ip("icmp", rest == their_rest);
	if (rest.starts_with("ICMP "))
		return judge_ip("icmp", their_rest.starts_with("ICMP "));
	if (rest.starts_with("ICMP6, ")) {
		if (rest.starts_with("ICMP6, unknown"))
			return {};
		for (const char *exact : {"ICMP6, echo", "ICMP6, neighbor", "ICMP6, router",
					  "ICMP6, multicast listener report v2"})
			if (rest.starts_with(exact))
				return judge_ip("icmp6", rest == their_rest);
		// Others: the message type, before tcpdump's details.
		auto type_of = [](const std::string &s) { return s.substr(0, s.find(',', 7)); };
		return judge_ip("icmp6", type_of(rest) == type_of(their_rest));
	}
	return {};
}

// "vlan 200, p 0, vlan 2001, p 0" from either tool's line.
std::string vlan_key(const std::string &line)
{
	static const std::regex kTag(R"(vlan \d+, p \d+(, DEI)?)");
	std::string key;
	for (auto it = std::sregex_iterator(line.begin(), line.end(), kTag); it != std::sregex_iterator(); ++it)
		key += it->str() + ";";
	return key;
}

} // namespace

TEST_CASE("decoded lines agree with tcpdump -nn", "[decode][tcpdump]")
{
	auto files = test::shared_captures();
	if (!have_tcpdump())
		test::skip_test("tcpdump is not installed");
	std::map<std::string, std::size_t> compared;
	std::vector<std::string> mismatches;
	std::size_t packets = 0, misaligned_files = 0;
	for (const auto &path : files) {
		auto mine = test::decode_capture(path);
		auto theirs = run_tcpdump(path, false);
		std::vector<TcpdumpPacket> theirs_e;
		bool any_vlan = false;
		for (const auto &p : mine)
			any_vlan |= p.line.find("vlan ") != std::string::npos;
		if (any_vlan)
			theirs_e = run_tcpdump(path, true);
		std::size_t n = std::min(mine.size(), theirs.size());
		for (std::size_t i = 0; i < n; i++) {
			if (theirs[i].timestamp_us == kNoTimestamp)
				continue;
			// Line up by timestamp: tcpdump stops early on some broken files.
			if (mine[i].timestamp_ns / 1000 != theirs[i].timestamp_us) {
				misaligned_files++;
				UNSCOPED_INFO("misaligned: " << path.filename().string() << " at packet " << i + 1);
				break;
			}
			packets++;
			auto where = path.filename().string() + " #" + std::to_string(i + 1) + " ";
			Verdict v = compare(mine[i].line, theirs[i].line);
			if (!v.category.empty())
				compared[v.category]++;
			if (!v.mismatch.empty())
				mismatches.push_back(where + v.category + "\n  " + v.mismatch);
			if (any_vlan && i < theirs_e.size() && mine[i].line.find("vlan ") != std::string::npos &&
			    mine[i].line.find("[|") == std::string::npos) {
				compared["vlan"]++;
				if (vlan_key(mine[i].line) != vlan_key(theirs_e[i].line))
					mismatches.push_back(where + "vlan\n  capx: " + mine[i].line +
							     "\n  tcpdump -e: " + theirs_e[i].line);
			}
		}
	}
	std::size_t total = 0;
	std::printf("aligned %zu packets with tcpdump; compared:", packets);
	for (const auto &[category, count] : compared) {
		std::printf(" %s=%zu", category.c_str(), count);
		if (category != "vlan")
			total += count;
	}
	std::printf(" (total %zu); %zu mismatches; %zu files misaligned\n", total, mismatches.size(),
		    misaligned_files);
	for (std::size_t i = 0; i < mismatches.size() && i < 200; i++)
		std::printf("MISMATCH %s\n", mismatches[i].c_str());
	CHECK(mismatches.empty());
	CHECK(misaligned_files == 0);
	// Guards against a comparison that silently compares nothing.
	CHECK(total > 2000);
	CHECK(compared["vlan"] > 0);
	CHECK(compared["arp"] > 0);
	CHECK(compared["icmp6"] > 0);
}
