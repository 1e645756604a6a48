// SPDX-License-Identifier: GPL-2.0-only
// The shared tcpdump-style options: parsing through CLI11 as a subcommand
// sees them, and the checks finalize() makes.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "cli/options.hpp"

using namespace capx;
using namespace capx::cli;

namespace {

// Parses `args` (without the program name) the way main does.
[[nodiscard]] Result<CaptureOptions> parse(std::vector<std::string> args)
{
	CLI::App app{"test"};
	CaptureOptions o;
	add_capture_options(app, o);
	std::vector<std::string> reversed(args.rbegin(), args.rend());
	try {
		app.parse(reversed);
	} catch (const CLI::ParseError &e) {
		return fail_usage(e.what());
	}
	if (auto r = o.finalize(); !r)
		return std::unexpected(r.error());
	return o;
}

} // namespace

TEST_CASE("tcpdump letters map to capture options", "[cli]")
{
	auto o = parse({"-w", "out.pcap", "-c", "10", "-s", "0", "-U", "--nano", "-C", "1.5", "-W", "3"});
	REQUIRE(o);
	CHECK(o->output.path == "out.pcap");
	CHECK(o->count == 10u);
	CHECK(o->snaplen == 262144u); // 0 means the maximum, like tcpdump
	CHECK(o->output.unbuffered);
	CHECK(o->output.nano);
	CHECK(o->output.rotate_bytes == 1'500'000u); // -C counts millions of bytes
	CHECK(o->output.file_limit == 3u);
	CHECK(o->pipeline_options().count == 10u);
	CHECK(o->pipeline_options().unbuffered);
}

TEST_CASE("the expression comes from -e or trailing words", "[cli]")
{
	auto words = parse({"-w", "-", "tcp", "port", "80"});
	REQUIRE(words);
	CHECK(words->filter_expression() == "tcp port 80");
	auto e = parse({"-e", "udp and not port 53"});
	REQUIRE(e);
	CHECK(e->filter_expression() == "udp and not port 53");
	auto both = parse({"-e", "udp", "tcp"});
	REQUIRE(both);
	auto merged = both->filter_expression();
	REQUIRE_FALSE(merged);
	CHECK(merged.error().status == ExitStatus::Usage);
	auto none = parse({});
	REQUIRE(none);
	CHECK(none->filter_expression() == "");
}

TEST_CASE("-d counts its letters", "[cli]")
{
	auto o = parse({"-ddd", "tcp"});
	REQUIRE(o);
	CHECK(o->dump_level == 3);
}

TEST_CASE("--duration becomes a pipeline limit", "[cli]")
{
	auto o = parse({"--duration", "2.5"});
	REQUIRE(o);
	CHECK(o->pipeline_options().duration == std::chrono::milliseconds(2500));
}

TEST_CASE("conflicting or incomplete options are usage errors", "[cli]")
{
	struct Case {
		std::vector<std::string> args;
		std::string message;
	};
	std::vector<Case> cases = {
		{{"-C", "1"}, "-C needs -w FILE"},
		{{"-w", "-", "-C", "1"}, "-C needs -w FILE"},
		{{"-G", "10"}, "-G needs -w FILE"},
		{{"-w", "x.pcap", "-W", "3"}, "-W needs -C or -G"},
		{{"-w", "x.pcap", "-t", "-v"}, "-t decodes on the terminal; it cannot be combined with -w"},
		{{"-w", "x.pcap", "--nano", "--pcapng"}, "--nano applies to pcap; pcapng always records nanoseconds"},
	};
	for (const auto &c : cases) {
		INFO(c.message);
		auto o = parse(c.args);
		REQUIRE_FALSE(o);
		CHECK(o.error().message == c.message);
		CHECK(o.error().status == ExitStatus::Usage);
	}
	for (std::vector<std::string> bad : {std::vector<std::string>{"-c", "0"}, {"-c", "many"},
					     {"-C", "-1"}, {"--duration", "0"}, {"-G", "x"}}) {
		INFO(bad[0] << " " << bad[1]);
		auto o = parse(bad);
		REQUIRE_FALSE(o);
		CHECK(o.error().status == ExitStatus::Usage);
	}
}

TEST_CASE("number checks say what is wrong in a few words", "[cli]")
{
	struct Case {
		std::vector<std::string> args;
		std::string message;
	};
	for (const auto &c : std::vector<Case>{
		     {{"-c", "0"}, "--count: '0' is not a positive number"},
		     {{"-c", "many"}, "--count: 'many' is not a positive number"},
		     {{"--duration", "inf"}, "--duration: 'inf' is not a positive number"},
		     {{"--duration", "nan"}, "--duration: 'nan' is not a positive number"},
		     {{"--duration=-0.5"}, "--duration: '-0.5' is not a positive number"},
		     {{"-G", "1x"}, "--rotate-seconds: '1x' is not a positive number"},
	     }) {
		INFO(c.message);
		auto o = parse(c.args);
		REQUIRE_FALSE(o);
		CHECK(o.error().message == c.message);
	}
	CHECK(parse({"--duration", "0.25"}));

	// The non-negative variant (capx-gen --max-lag) takes 0 and nothing below.
	double lag = -1;
	CLI::App app{"test"};
	app.add_option("--lag", lag)->check(non_negative_number());
	app.parse(std::vector<std::string>{"0", "--lag"});
	CHECK(lag == 0);
	CHECK_THROWS_WITH(app.parse(std::vector<std::string>{"-1e-9", "--lag"}),
			  "--lag: '-1e-9' is not a non-negative number");
}
