// SPDX-License-Identifier: GPL-2.0-only
// The filter front against libpcap's own tool: `tcpdump -d` must print the
// same program as `capx ... -d` for the same expression.
#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "core/packet.hpp"
#include "filter/cbpf.hpp"

using namespace capx;

namespace {

std::string run(const std::string &cmd)
{
	std::unique_ptr<FILE, decltype(&pclose)> p(popen(cmd.c_str(), "r"), &pclose);
	std::string out;
	char buf[4096];
	size_t n;
	while (p && (n = fread(buf, 1, sizeof buf, p.get())) > 0)
		out.append(buf, n);
	return out;
}

} // namespace

TEST_CASE("bad expressions give libpcap's message", "[filter]")
{
	auto p = CbpfProgram::compile("tcp prot 80", kLinkEthernet);
	REQUIRE_FALSE(p);
	CHECK(p.error().message == "filter 'tcp prot 80': syntax error");
}

TEST_CASE("empty expression accepts everything", "[filter]")
{
	auto p = CbpfProgram::compile("", kLinkEthernet);
	REQUIRE(p);
	CHECK(p->accepts_all());
	auto q = CbpfProgram::compile("tcp", kLinkEthernet);
	REQUIRE(q);
	CHECK_FALSE(q->accepts_all());
}

TEST_CASE("dump matches tcpdump -d, -dd, -ddd", "[filter]")
{
	// tcpdump is a hard test dependency (the README installs it).
	REQUIRE_FALSE(run("command -v tcpdump").empty());
	for (const char *expr : {"tcp port 80", "vlan 10 and udp", "ip6 protochain 6", "less 100"}) {
		auto p = CbpfProgram::compile(expr, kLinkEthernet);
		REQUIRE(p);
		for (int level = 1; level <= 3; level++) {
			std::string flag(static_cast<size_t>(level), 'd');
			std::string want = run(std::string("tcpdump -y EN10MB -") + flag + " '" + expr + "' 2>/dev/null");
			INFO(expr << " -" << flag);
			CHECK(dump_cbpf(*p, level) == want);
		}
	}
}
