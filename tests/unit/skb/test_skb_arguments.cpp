// SPDX-License-Identifier: GPL-2.0-only
// -i, --netns and --mark of `capx skb`, resolved on this machine.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <optional>

#include <fmt/format.h>

#include "capture/interface_lookup.hpp"
#include "capture/ring/interface.hpp"
#include "capture/skb/skb_arguments.hpp"
#include "capture/skb/skb_record.hpp"

using namespace capx;

namespace {

// The value, or nothing for an error (Error has no ==).
std::optional<std::uint32_t> value(const Result<std::uint32_t> &r)
{
	return r ? std::optional(*r) : std::nullopt;
}

} // namespace

TEST_CASE("interfaces by name, by index, or any", "[skb][arguments]")
{
	CHECK(value(skb::resolve_interface_argument("any")) == 0);
	CHECK(value(skb::resolve_interface_argument("lo")) == 1);
	// An index is not looked up: it may be in another namespace.
	CHECK(value(skb::resolve_interface_argument("4000")) == 4000);

	auto missing = skb::resolve_interface_argument("nosuchdev0");
	REQUIRE_FALSE(missing);
	// The words of capx ring -i (interface_index()), and a hint for
	// devices of other namespaces.
	CHECK(missing.error().message == "no such interface 'nosuchdev0'");
	CHECK(missing.error().status == ExitStatus::Runtime);
	CHECK(missing.error().hint.starts_with("interfaces here: "));
	CHECK(missing.error().hint.find("lo") != std::string::npos);
	CHECK(missing.error().hint.find("another namespace is given by its index") != std::string::npos);

	auto too_long = skb::resolve_interface_argument("a-name-longer-than-ifnamsiz");
	REQUIRE_FALSE(too_long);
	CHECK(too_long.error().message == "no such interface 'a-name-longer-than-ifnamsiz'");

	auto zero = skb::resolve_interface_argument("0");
	REQUIRE_FALSE(zero);
	CHECK(zero.error().status == ExitStatus::Usage);

	// "" is no way to say "any": it used to be, silently.
	auto empty = skb::resolve_interface_argument("");
	REQUIRE_FALSE(empty);
	CHECK(empty.error().status == ExitStatus::Usage);
	CHECK(empty.error().message == "empty interface name");
}

TEST_CASE("capx ring -i and capx skb -i word a missing device alike", "[skb][arguments]")
{
	auto shared = interface_index("nosuchdev0");
	auto ring = ring::resolve_interface("nosuchdev0");
	auto skb = skb::resolve_interface_argument("nosuchdev0");
	REQUIRE_FALSE(shared);
	REQUIRE_FALSE(ring);
	REQUIRE_FALSE(skb);
	CHECK(ring.error().message == shared.error().message);
	CHECK(skb.error().message == shared.error().message);
	CHECK(ring.error().status == skb.error().status);
	CHECK(skb.error().hint.starts_with(ring.error().hint));

	auto empty_ring = ring::resolve_interface("");
	REQUIRE_FALSE(empty_ring);
	CHECK(empty_ring.error().message == "empty interface name");
	CHECK(empty_ring.error().status == ExitStatus::Usage);

	auto index = interface_name(999999);
	REQUIRE_FALSE(index);
	CHECK(index.error().message == "no interface has index 999999");
	CHECK(value(interface_index("lo")) == 1);
	CHECK(interface_name(1).value_or("") == "lo");
}

TEST_CASE("namespaces by inode or by path", "[skb][arguments]")
{
	const std::uint32_t own = skb::own_netns_inode();
	REQUIRE(own != 0);
	auto empty = skb::resolve_netns_argument("");
	REQUIRE_FALSE(empty);
	CHECK(empty.error().status == ExitStatus::Usage);
	CHECK(empty.error().message == "empty network namespace");
	CHECK(value(skb::resolve_netns_argument(std::to_string(own))) == own);
	CHECK(value(skb::resolve_netns_argument("/proc/self/ns/net")) == own);
	CHECK(value(skb::resolve_netns_argument(fmt::format("/proc/{}/ns/net", ::getpid()))) == own);

	auto zero = skb::resolve_netns_argument("0");
	REQUIRE_FALSE(zero);
	CHECK(zero.error().status == ExitStatus::Usage);
	auto huge = skb::resolve_netns_argument("99999999999");
	REQUIRE_FALSE(huge);
	CHECK(huge.error().status == ExitStatus::Usage);

	auto missing = skb::resolve_netns_argument("/nonexistent/ns");
	REQUIRE_FALSE(missing);
	CHECK(missing.error().message.starts_with("no network namespace '/nonexistent/ns'"));

	// A bare name is one of `ip netns`.
	auto unnamed = skb::resolve_netns_argument("capx-no-such-netns");
	REQUIRE_FALSE(unnamed);
	CHECK(unnamed.error().message.starts_with("no network namespace '/run/netns/capx-no-such-netns'"));

	// Files that are no network namespace: their inode would match nothing.
	for (const char *path : {"/proc/self/ns/uts", "/etc/hostname"}) {
		INFO(path);
		auto r = skb::resolve_netns_argument(path);
		REQUIRE_FALSE(r);
		CHECK(r.error().message == fmt::format("'{}' is not a network namespace", path));
	}
}

TEST_CASE("marks in decimal or hexadecimal", "[skb][arguments]")
{
	CHECK(value(skb::parse_mark_argument("0")) == 0);
	CHECK(value(skb::parse_mark_argument("255")) == 255);
	CHECK(value(skb::parse_mark_argument("0x10")) == 16);
	CHECK(value(skb::parse_mark_argument("0XfF")) == 255);
	CHECK(value(skb::parse_mark_argument("0xffffffff")) == 0xffffffffu);
	for (const char *bad : {"", "0x", "-1", "4294967296", "0x100000000", "12ab", "mark"}) {
		INFO(bad);
		auto r = skb::parse_mark_argument(bad);
		REQUIRE_FALSE(r);
		CHECK(r.error().status == ExitStatus::Usage);
	}
}
