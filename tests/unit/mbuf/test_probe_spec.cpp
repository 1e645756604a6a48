// SPDX-License-Identifier: GPL-2.0-only
// capx mbuf's -f grammar (SYMBOL@N, SYMBOL@N@M, LIB:SYMBOL, LIB:0xOFFSET,
// comma lists) and the option combinations check_config() refuses before
// any process is looked at.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "capture/mbuf/mbuf_probe_spec.hpp"
#include "capture/mbuf/mbuf_source.hpp"

using namespace capx;
using namespace capx::mbuf;

namespace {

// The message of a parse that must fail (as a usage error).
std::string parse_error(std::string_view text)
{
	auto r = parse_probe_spec(text);
	REQUIRE_FALSE(r);
	CHECK(r.error().status == ExitStatus::Usage);
	CHECK_FALSE(r.error().hint.empty());
	return r.error().message;
}

} // namespace

TEST_CASE("SYMBOL@N is one mbuf", "[mbuf][spec]")
{
	auto s = parse_probe_spec("l2fwd_simple_forward@1");
	REQUIRE(s);
	CHECK(s->where == "l2fwd_simple_forward");
	CHECK(s->mbuf_arg == 1);
	CHECK(s->count_arg == 0);
	CHECK(s->text == "l2fwd_simple_forward@1");
}

TEST_CASE("SYMBOL@N@M is an array and its count", "[mbuf][spec]")
{
	auto s = parse_probe_spec("rte_eth_call_rx_callbacks@3@4");
	REQUIRE(s);
	CHECK(s->where == "rte_eth_call_rx_callbacks");
	CHECK(s->mbuf_arg == 3);
	CHECK(s->count_arg == 4);
	// The count may come before the array.
	auto r = parse_probe_spec("burst@6@1");
	REQUIRE(r);
	CHECK(r->mbuf_arg == 6);
	CHECK(r->count_arg == 1);
}

TEST_CASE("LIB:SYMBOL and LIB:0xOFFSET keep the library in where", "[mbuf][spec]")
{
	auto s = parse_probe_spec("librte_ethdev:rte_eth_call_rx_callbacks@3@4");
	REQUIRE(s);
	CHECK(s->where == "librte_ethdev:rte_eth_call_rx_callbacks");
	CHECK(s->mbuf_arg == 3);
	CHECK(s->count_arg == 4);

	auto o = parse_probe_spec("librte_net_null.so.23:0x1f2e0@2@3");
	REQUIRE(o);
	CHECK(o->where == "librte_net_null.so.23:0x1f2e0");
	CHECK(o->mbuf_arg == 2);
	CHECK(o->count_arg == 3);

	// A path, with '@' in a directory name: the argument numbers are
	// after the last ':'.
	auto p = parse_probe_spec("/opt/dpdk@23.11/lib/librte_ethdev.so.24:0XABC@1");
	REQUIRE(p);
	CHECK(p->where == "/opt/dpdk@23.11/lib/librte_ethdev.so.24:0XABC");
	CHECK(p->mbuf_arg == 1);
}

TEST_CASE("compiler clone and C++ names are symbols", "[mbuf][spec]")
{
	for (const char *text : {"pkt_burst_io_forward.cold@1", "foo.isra.0@2", "_ZN3app7process4burstEPP8rte_mbuft@2@3",
				 "__rte_x$1@1"}) {
		INFO(text);
		auto s = parse_probe_spec(text);
		REQUIRE(s);
		CHECK(s->text == text);
	}
}

TEST_CASE("spaces around a spec are not part of it", "[mbuf][spec]")
{
	auto s = parse_probe_spec("  foo@1\t");
	REQUIRE(s);
	CHECK(s->where == "foo");
	CHECK(s->text == "foo@1");
}

TEST_CASE("bad specs are usage errors naming the spec", "[mbuf][spec]")
{
	CHECK_THAT(parse_error("foo"), Catch::Contains("'foo'") && Catch::Contains("missing @N"));
	CHECK_THAT(parse_error("foo@"), Catch::Contains("missing the argument number"));
	CHECK_THAT(parse_error("foo@1@"), Catch::Contains("missing the argument number"));
	CHECK_THAT(parse_error("foo@x"), Catch::Contains("'x' is not an argument number"));
	CHECK_THAT(parse_error("foo@1x"), Catch::Contains("'1x' is not an argument number"));
	CHECK_THAT(parse_error("foo@-1"), Catch::Contains("'-1' is not an argument number"));
	CHECK_THAT(parse_error("foo@0"), Catch::Contains("out of range"));
	CHECK_THAT(parse_error("foo@7"), Catch::Contains("argument 7 is out of range") && Catch::Contains("1 to 6"));
	CHECK_THAT(parse_error("foo@1@7"), Catch::Contains("argument 7 is out of range"));
	CHECK_THAT(parse_error("foo@1@0"), Catch::Contains("out of range"));
	CHECK_THAT(parse_error("foo@99999999999999999999"), Catch::Contains("out of range"));
	CHECK_THAT(parse_error("foo@2@2"), Catch::Contains("N and M must differ"));
	CHECK_THAT(parse_error("foo@1@2@3"), Catch::Contains("more than two"));
	CHECK_THAT(parse_error("@1"), Catch::Contains("no symbol"));
	CHECK_THAT(parse_error("lib:@1"), Catch::Contains("no symbol"));
	CHECK_THAT(parse_error(":foo@1"), Catch::Contains("no library"));
	CHECK_THAT(parse_error("0x1234@1"), Catch::Contains("LIB:0xOFFSET"));
	CHECK_THAT(parse_error("lib:0x@1"), Catch::Contains("not a symbol or a 0x offset"));
	CHECK_THAT(parse_error("lib:0x12g@1"), Catch::Contains("not a symbol or a 0x offset"));
	CHECK_THAT(parse_error("lib:1234@1"), Catch::Contains("'1234' is not a symbol"));
	CHECK_THAT(parse_error("foo-bar@1"), Catch::Contains("'foo-bar' is not a symbol"));
	CHECK_THAT(parse_error(""), Catch::Contains("empty probe"));
	CHECK_THAT(parse_error("   "), Catch::Contains("empty probe"));
}

TEST_CASE("-f lists are split at commas", "[mbuf][spec]")
{
	auto specs = parse_probe_specs({"a@1, b@2@3", "librte_ethdev:c@3@4"});
	REQUIRE(specs);
	REQUIRE(specs->size() == 3);
	CHECK((*specs)[0].where == "a");
	CHECK((*specs)[1].where == "b");
	CHECK((*specs)[1].count_arg == 3);
	CHECK((*specs)[2].where == "librte_ethdev:c");

	for (std::vector<std::string> bad : {std::vector<std::string>{"a@1,,b@1"}, {"a@1,"}, {",a@1"}, {""}}) {
		auto r = parse_probe_specs(bad);
		REQUIRE_FALSE(r);
		CHECK(r.error().status == ExitStatus::Usage);
		CHECK_THAT(r.error().message, Catch::Contains("empty probe"));
	}
	auto r = parse_probe_specs({"a@1,b@9"});
	REQUIRE_FALSE(r);
	CHECK_THAT(r.error().message, Catch::Contains("'b@9'"));
}

namespace {

std::vector<MbufProbeSpec> specs(const std::vector<std::string> &texts)
{
	auto r = parse_probe_specs(texts);
	REQUIRE(r);
	return *r;
}

MbufConfig by_pid()
{
	MbufConfig c;
	c.pid = 1;
	c.probes = specs({"foo@1"});
	return c;
}

MbufConfig by_port()
{
	MbufConfig c;
	c.pid = 1;
	c.port = 0;
	c.rx = true;
	return c;
}

std::string config_error(const MbufConfig &c)
{
	auto r = check_config(c);
	REQUIRE_FALSE(r);
	CHECK(r.error().status == ExitStatus::Usage);
	return r.error().message;
}

} // namespace

TEST_CASE("check_config accepts the documented forms", "[mbuf][config]")
{
	CHECK(check_config(by_pid()));
	CHECK(check_config(by_port()));
	MbufConfig c = by_pid();
	c.pid.reset();
	c.binary = "/usr/bin/dpdk-testpmd";
	c.on_return = true;
	c.probes = specs({"rte_eth_rx_burst@3", "x@2@3"});
	CHECK(check_config(c));
	MbufConfig p = by_port();
	p.rx = false;
	p.tx = true;
	p.queue = 1;
	CHECK(check_config(p));
}

TEST_CASE("check_config refuses conflicting or missing options", "[mbuf][config]")
{
	MbufConfig c = by_pid();
	c.binary = "/bin/true";
	CHECK_THAT(config_error(c), Catch::Contains("--pid and --binary both"));
	c = by_pid();
	c.pid.reset();
	CHECK_THAT(config_error(c), Catch::Contains("--pid PID or --binary PATH"));
	c = by_pid();
	c.pid = 0;
	CHECK_THAT(config_error(c), Catch::Contains("not a process id"));
	c = by_pid();
	c.port = 0;
	c.rx = true;
	CHECK_THAT(config_error(c), Catch::Contains("-f and --port both"));
	c = by_pid();
	c.probes.clear();
	CHECK_THAT(config_error(c), Catch::Contains("nothing to probe"));
	c = by_pid();
	c.queue = 0;
	CHECK_THAT(config_error(c), Catch::Contains("--queue needs --port"));
	c = by_pid();
	c.rx = true;
	CHECK_THAT(config_error(c), Catch::Contains("--rx needs --port"));
	c = by_pid();
	c.tx = true;
	CHECK_THAT(config_error(c), Catch::Contains("--tx needs --port"));
	c = by_port();
	c.tx = true;
	CHECK_THAT(config_error(c), Catch::Contains("--rx and --tx both"));
	c = by_port();
	c.rx = false;
	CHECK_THAT(config_error(c), Catch::Contains("--port needs --rx or --tx"));
	c = by_port();
	c.on_return = true;
	CHECK_THAT(config_error(c), Catch::Contains("--ret applies to -f"));
}

TEST_CASE("the -f parser refuses a bad spec and more probes than a capture takes", "[mbuf][config]")
{
	auto bad = parse_probe_specs({"foo@1", "bar@9"});
	REQUIRE_FALSE(bad);
	CHECK_THAT(bad.error().message, Catch::Contains("'bar@9'"));
	std::vector<std::string> many(65, "f@1");
	auto r = parse_probe_specs(many);
	REQUIRE_FALSE(r);
	CHECK(r.error().status == ExitStatus::Usage);
	CHECK_THAT(r.error().message, Catch::Contains("at most 64"));
	many.pop_back();
	CHECK(parse_probe_specs(many));
}
