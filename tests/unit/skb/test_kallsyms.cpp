// SPDX-License-Identifier: GPL-2.0-only
// The stack symbolizer over /proc/kallsyms: a hand-written file for the
// edge cases, the running kernel's for the real thing.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "bpf/kallsyms.hpp"

using capx::bpf::Kallsyms;

namespace {

std::string write_temp(const std::string &text)
{
	char path[] = "/tmp/capx-kallsyms-XXXXXX";
	int fd = ::mkstemp(path);
	REQUIRE(fd >= 0);
	::close(fd);
	std::ofstream(path) << text;
	return path;
}

} // namespace

TEST_CASE("symbols from a kallsyms file", "[skb][kallsyms]")
{
	std::string path = write_temp("ffffffff81000000 T _stext\n"
				      "ffffffff81000000 T _text\n"
				      "ffffffff81001000 t ip_rcv_core\n"
				      "ffffffff81001400 T ip_rcv\n"
				      "ffffffff81002000 D some_data\n"
				      "ffffffff81003000 W weak_function\n"
				      "ffffffffc0a01000 t veth_xmit\t[veth]\n"
				      "garbage line\n");
	auto k = Kallsyms::load(path);
	std::remove(path.c_str());
	REQUIRE(k);
	CHECK(k->size() == 6); // the data symbol is not kept
	CHECK(k->addresses_visible());
	CHECK(k->symbolize(0xffffffff81001400) == "ip_rcv+0x0");
	CHECK(k->symbolize(0xffffffff8100141a) == "ip_rcv+0x1a");
	CHECK(k->symbolize(0xffffffff81001010) == "ip_rcv_core+0x10");
	// Aliases: the first listed names the address.
	CHECK(k->symbolize(0xffffffff81000004) == "_stext+0x4");
	// Past ip_rcv into the data symbol's place: still ip_rcv (text only).
	CHECK(k->symbolize(0xffffffff81002010) == "ip_rcv+0xc10");
	CHECK(k->symbolize(0xffffffff81003001) == "weak_function+0x1");
	CHECK(k->symbolize(0xffffffffc0a01010) == "veth_xmit+0x10 [veth]");
	// Before every symbol, or far past the last: the bare address.
	CHECK(k->symbolize(0xffffffff80000000) == "0xffffffff80000000");
	CHECK(k->symbolize(0xffffffffc0f01010) == "0xffffffffc0f01010");

	CHECK(k->has_function("ip_rcv"));
	CHECK(k->has_function("veth_xmit"));
	CHECK_FALSE(k->has_function("some_data"));
	CHECK_FALSE(k->has_function("ip_rc"));
	CHECK(k->address_of("ip_rcv_core") == 0xffffffff81001000u);
}

TEST_CASE("hidden addresses are never symbolized", "[skb][kallsyms]")
{
	std::string path = write_temp("0000000000000000 T ip_rcv\n0000000000000000 t ip_rcv_core\n");
	auto k = Kallsyms::load(path);
	std::remove(path.c_str());
	REQUIRE(k);
	CHECK_FALSE(k->addresses_visible());
	CHECK(k->has_function("ip_rcv"));
	CHECK(k->symbolize(0x10) == "0x10");
}

TEST_CASE("a missing file is an error", "[skb][kallsyms]")
{
	auto k = Kallsyms::load("/nonexistent/capx/kallsyms");
	REQUIRE_FALSE(k);
	CHECK_THAT(k.error().message, Catch::StartsWith("cannot read /nonexistent/capx/kallsyms"));
}

TEST_CASE("the running kernel's functions symbolize back to their names", "[skb][kallsyms]")
{
	const auto &k = Kallsyms::kernel();
	REQUIRE(k);
	CHECK(k->size() > 1000);
	CHECK(k->has_function("ip_rcv"));
	if (!k->addresses_visible()) {
		WARN("/proc/kallsyms shows no addresses here (not root, or kptr_restrict): symbolizing not tested");
		return;
	}
	for (const char *name : {"ip_rcv", "netif_receive_skb", "kfree_skb_list_reason"}) {
		auto address = k->address_of(name);
		if (!address)
			continue;
		CHECK(k->symbolize(*address) == std::string(name) + "+0x0");
		CHECK(k->symbolize(*address + 4) == std::string(name) + "+0x4");
	}
	REQUIRE(k->address_of("ip_rcv"));
}
