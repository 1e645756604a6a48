// SPDX-License-Identifier: GPL-2.0-only
// The two bodies of capx skb's filter (src/capture/skb/skb_filter.hpp) run
// in the kernel with BPF_PROG_TEST_RUN: the Ethernet-compiled one on an
// Ethernet frame, the RAW-compiled one on its IP part, so that a probe
// that sees a packet without its MAC header decides as libpcap would on
// the same bytes. What the bodies are is tests/unit/skb/test_skb_filter.cpp.
#include <catch2/catch.hpp>

#include <span>
#include <utility>
#include <vector>

#include "capture/skb/skb_filter.hpp"
#include "core/snaplen.hpp"
#include "filter/kernel_runner.hpp"

using namespace capx;

namespace {

// An Ethernet frame: 02:00:00:00:00:02 <- 02:00:00:00:00:01, IPv4 ICMP
// echo request 10.0.0.1 -> 10.0.0.2 (checksums are not looked at).
std::vector<std::uint8_t> icmp_frame()
{
	return {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
		0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00,
		0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
		0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	};
}

// What `expression`'s bodies say about the frame (L2) and its IP part (L3).
std::pair<std::uint32_t, std::uint32_t> kernel_verdicts(const char *expression)
{
	auto f = skb::build_skb_filter(expression, kMaxSnaplen);
	REQUIRE(f);
	REQUIRE(f->bodies.buffer);
	REQUIRE(f->bodies.l3);
	auto frame = icmp_frame();
	std::span<const std::uint8_t> ip(frame.data() + 14, frame.size() - 14);
	EbpfFilter l2{FilterAccess::Buffer, *f->bodies.buffer, 0, std::nullopt, false};
	EbpfFilter l3{FilterAccess::Buffer, *f->bodies.l3, 0, std::nullopt, false};
	auto r2 = KernelFilterRunner::load(l2);
	auto r3 = KernelFilterRunner::load(l3);
	REQUIRE(r2);
	REQUIRE(r3);
	auto v2 = r2->run(frame, static_cast<std::uint32_t>(frame.size()));
	auto v3 = r3->run(ip, static_cast<std::uint32_t>(ip.size()));
	REQUIRE(v2);
	REQUIRE(v3);
	return {*v2, *v3};
}

} // namespace

TEST_CASE("an empty expression accepts the frame at L2 and L3 in the kernel", "[skb][filter]")
{
	auto v = kernel_verdicts("");
	CHECK(v.first != 0);
	CHECK(v.second != 0);
}

TEST_CASE("an IP expression decides the same on the frame and on its IP part", "[skb][filter]")
{
	auto yes = kernel_verdicts("icmp and host 10.0.0.2");
	CHECK(yes.first != 0);
	CHECK(yes.second != 0);
	auto no = kernel_verdicts("icmp and host 10.9.9.9");
	CHECK(no.first == 0);
	CHECK(no.second == 0);
}

TEST_CASE("a link-layer expression matches the frame, never its IP part alone", "[skb][filter]")
{
	auto v = kernel_verdicts("ether src 02:00:00:00:00:01");
	CHECK(v.first != 0);  // the frame is from that address
	CHECK(v.second == 0); // its IP part alone cannot say
}
