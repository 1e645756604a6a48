// SPDX-License-Identifier: GPL-2.0-only
// The filter of `capx skb`: the Ethernet- and RAW-compiled bodies, the L3
// warning for expressions that need a link layer, the bytes the BPF side
// must copy first. How the bodies decide in the kernel is
// tests/kernel/test_skb_filter_kernel.cpp.
#include <catch2/catch.hpp>

#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <vector>

#include "capture/skb/skb_filter.hpp"
#include "core/log.hpp"
#include "core/snaplen.hpp"

using namespace capx;

namespace {

// Everything spdlog says while `f` runs.
template<typename F>
std::string logged(F &&f)
{
	std::ostringstream out;
	auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
	auto logger = spdlog::default_logger();
	logger->sinks().push_back(sink);
	f();
	logger->sinks().pop_back();
	return out.str();
}

std::size_t count(const std::string &text, const std::string &what)
{
	std::size_t n = 0;
	for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
		n++;
	return n;
}

} // namespace

TEST_CASE("an empty expression accepts everything at L2 and L3", "[skb][filter]")
{
	std::string log;
	Result<skb::SkbFilter> f;
	log = logged([&] { f = skb::build_skb_filter("", kMaxSnaplen); });
	REQUIRE(f);
	CHECK(f->accepts_all);
	CHECK(f->l3_warning.empty());
	CHECK(log.empty());
	REQUIRE(f->bodies.buffer);
	REQUIRE(f->bodies.l3);
	CHECK_FALSE(f->bodies.packet);
	CHECK(f->l2_bytes_needed == std::optional<std::uint32_t>(0));
}

TEST_CASE("an IP expression gets an Ethernet and a RAW body", "[skb][filter]")
{
	auto f = skb::build_skb_filter("icmp and host 10.0.0.2", kMaxSnaplen);
	REQUIRE(f);
	CHECK_FALSE(f->accepts_all);
	CHECK(f->l3_warning.empty());
	// The protocol byte of IPv4 is at 23 behind Ethernet, at 9 without;
	// the destination address ends at 34 and 20.
	CHECK(f->l2_bytes_needed == std::optional<std::uint32_t>(34));
	CHECK(f->l3_bytes_needed == std::optional<std::uint32_t>(20));
}

TEST_CASE("an indirect load is bounded by the IPv4 header length, a loop is not", "[skb][filter]")
{
	// 'tcp port 80' reads the port behind a variable-length IP header
	// (ldxb 4*([14]&0xf): at most 60 bytes).
	auto f = skb::build_skb_filter("tcp port 80", kMaxSnaplen);
	REQUIRE(f);
	CHECK(f->l2_bytes_needed == std::optional<std::uint32_t>(14 + 60 + 4));
	CHECK(f->l3_bytes_needed == std::optional<std::uint32_t>(60 + 4));
	// protochain walks any number of headers.
	auto chain = skb::build_skb_filter("ip6 protochain 6", kMaxSnaplen);
	REQUIRE(chain);
	CHECK_FALSE(chain->l2_bytes_needed);
	CHECK_FALSE(chain->l3_bytes_needed);
}

TEST_CASE("a link-layer expression warns once and never matches at L3", "[skb][filter]")
{
	for (const char *expression : {"ether host 02:00:00:00:00:01", "arp", "vlan", "ether broadcast"}) {
		INFO(expression);
		Result<skb::SkbFilter> f;
		std::string log = logged([&] { f = skb::build_skb_filter(expression, kMaxSnaplen); });
		REQUIRE(f);
		CHECK(count(log, "cannot match") == 1);
		CHECK(f->l3_warning.find(expression) != std::string::npos);
		CHECK(f->l3_warning.find("without a MAC header") != std::string::npos);
		REQUIRE(f->bodies.l3);
		CHECK(f->l3_bytes_needed == std::optional<std::uint32_t>(0));
	}
}

TEST_CASE("a bad expression exits 1 with libpcap's message, as in every subcommand", "[skb][filter]")
{
	auto f = skb::build_skb_filter("tcp port", kMaxSnaplen);
	REQUIRE_FALSE(f);
	CHECK(f.error().status == ExitStatus::Runtime);
	CHECK(f.error().message == "filter 'tcp port': syntax error");
}
