// SPDX-License-Identifier: GPL-2.0-only
// -t FLAGS: the real tcpdump decodes what capx streams into it.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "output/tcpdump_pipe_sink.hpp"
#include "output_test_support.hpp"

using namespace capx;
using namespace capx::test;

namespace {

struct PipeRun {
	Result<void> result;
	std::vector<std::string> out;
};

PipeRun run_pipe(const std::string &flags, const std::vector<SamplePacket> &packets, std::string program = "tcpdump")
{
	::signal(SIGPIPE, SIG_IGN); // as capx's stop::install() does
	TempDir dir;
	int fd = ::open((dir / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	REQUIRE(fd >= 0);
	UniqueFd out(fd);
	TcpdumpPipeOptions o;
	o.flags = flags;
	o.program = std::move(program);
	o.output_fd = out.get();
	PipeRun run;
	{
		TcpdumpPipeSink sink(o);
		CapturePoint point = ethernet_point();
		run.result = write_all(sink, {&point, 1}, packets);
	}
	auto bytes = read_bytes(dir / "out");
	run.out = lines(std::string(bytes.begin(), bytes.end()));
	return run;
}

} // namespace

TEST_CASE("-t flags are split into words with quotes and no expansion", "[output][tcpdump]")
{
	using V = std::vector<std::string>;
	CHECK(*split_flag_words("") == V{});
	CHECK(*split_flag_words("  -nn   -e ") == V{"-nn", "-e"});
	CHECK(*split_flag_words("-nn 'port 80'") == V{"-nn", "port 80"});
	CHECK(*split_flag_words("-nn \"host \\\"x\\\"\" a\\ b") == V{"-nn", "host \"x\"", "a b"});
	CHECK(*split_flag_words("'$(rm -rf /)' `id` *") == V{"$(rm -rf /)", "`id`", "*"});
	CHECK(*split_flag_words("-v'v'\"v\"") == V{"-vvv"});
	auto bad = split_flag_words("-nn 'port 80");
	REQUIRE_FALSE(bad);
	CHECK(bad.error().status == ExitStatus::Usage);
	CHECK(bad.error().message == "-t '-nn 'port 80': unterminated ' quote");
}

TEST_CASE("tcpdump decodes the packets streamed into it", "[output][tcpdump]")
{
	REQUIRE(have_program("tcpdump"));
	auto r = run_pipe("-nn -tt", ethernet_samples());
	INFO((r.result ? "" : r.result.error().message));
	REQUIRE(r.result);
	REQUIRE(r.out.size() == 3);
	CHECK(r.out[0] == "1700000000.123456 IP 10.0.0.1.40000 > 10.0.0.2.9: UDP, length 4");
	CHECK(r.out[1].starts_with("1700000001.000000 IP 10.0.0.1 > 10.0.0.2: ICMP echo request"));
	CHECK(r.out[2].starts_with("1700000002.999999 IP 10.0.0.1.40001 > 10.0.0.2.80: Flags [S]"));
}

TEST_CASE("a filter expression in the -t flags reaches tcpdump as words", "[output][tcpdump]")
{
	REQUIRE(have_program("tcpdump"));
	auto r = run_pipe("-nn -tt 'icmp or port 80'", ethernet_samples());
	REQUIRE(r.result);
	REQUIRE(r.out.size() == 2);
	CHECK(r.out[0].find("ICMP echo request") != std::string::npos);
	CHECK(r.out[1].find("Flags [S]") != std::string::npos);
}

TEST_CASE("a missing tcpdump is a one-line error with a hint", "[output][tcpdump]")
{
	auto r = run_pipe("-nn", ethernet_samples(), "capx-no-such-tcpdump");
	REQUIRE_FALSE(r.result);
	CHECK(r.result.error().message == "-t needs capx-no-such-tcpdump, which is not installed (not found in PATH)");
	CHECK(r.result.error().hint.find("apt-get install tcpdump") != std::string::npos);
}

TEST_CASE("tcpdump refusing its flags is an error, not a broken pipe", "[output][tcpdump]")
{
	REQUIRE(have_program("tcpdump"));
	auto r = run_pipe("--capx-no-such-flag", udp_series(2000, 200, 1'700'000'000'000'000'000ull, 1000));
	REQUIRE_FALSE(r.result);
	CHECK_FALSE(r.result.error().orderly_end);
	CHECK(r.result.error().message == "tcpdump exited with status 1");
}

TEST_CASE("tcpdump leaving early (-c) is an orderly end", "[output][tcpdump]")
{
	REQUIRE(have_program("tcpdump"));
	// Far more than a pipe holds, so capx sees tcpdump go away.
	auto r = run_pipe("-nn -c 2", udp_series(5000, 200, 1'700'000'000'000'000'000ull, 1000));
	REQUIRE_FALSE(r.result);
	CHECK(r.result.error().orderly_end);
	CHECK(r.out.size() == 2);
}

TEST_CASE("a packet reaches tcpdump at once, with no flush", "[output][tcpdump]")
{
	REQUIRE(have_program("tcpdump"));
	::signal(SIGPIPE, SIG_IGN);
	TempDir dir;
	int fd = ::open((dir / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	REQUIRE(fd >= 0);
	UniqueFd out(fd);
	TcpdumpPipeOptions o;
	o.flags = "-nn -tt -l";
	o.output_fd = out.get();
	TcpdumpPipeSink sink(o);
	CapturePoint point = ethernet_point();
	REQUIRE(sink.begin({&point, 1}));
	REQUIRE(sink.write(ethernet_samples()[0].view()));
	// A live view: the line appears while the capture is still running.
	std::vector<std::string> got;
	for (int i = 0; i < 100 && got.empty(); i++) {
		::usleep(50'000);
		auto bytes = read_bytes(dir / "out");
		got = lines(std::string(bytes.begin(), bytes.end()));
	}
	REQUIRE(got.size() == 1);
	CHECK(got[0] == "1700000000.123456 IP 10.0.0.1.40000 > 10.0.0.2.9: UDP, length 4");
	CHECK(sink.finish());
}
