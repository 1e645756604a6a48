// SPDX-License-Identifier: GPL-2.0-only
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/mapped_memory.hpp"
#include "core/unique_fd.hpp"

using namespace capx;

TEST_CASE("UniqueFd closes exactly once and moves ownership", "[core]")
{
	int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
	REQUIRE(raw >= 0);
	{
		UniqueFd a(raw);
		UniqueFd b(std::move(a));
		CHECK_FALSE(a.valid());
		CHECK(b.get() == raw);
		CHECK(::fcntl(raw, F_GETFD) >= 0);
	}
	errno = 0;
	CHECK(::fcntl(raw, F_GETFD) == -1);
	CHECK(errno == EBADF);
}

TEST_CASE("fail_errno names the call and flags EPIPE", "[core]")
{
	Result<void> r = fail_errno(EPIPE, "write out.pcap");
	REQUIRE_FALSE(r);
	CHECK(r.error().message == "write out.pcap: Broken pipe");
	CHECK(r.error().orderly_end);
	Result<void> p = fail_errno(EPERM, "bpf");
	CHECK_FALSE(p.error().hint.empty());
	CHECK(p.error().status == ExitStatus::Runtime);
	CHECK(fail_usage("x").error().status == ExitStatus::Usage);
}

TEST_CASE("MappedMemory maps and unmaps", "[core]")
{
	auto m = MappedMemory::map(-1, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	REQUIRE(m);
	m->data()[8191] = 42;
	MappedMemory moved = std::move(*m);
	CHECK(moved.size() == 8192);
	CHECK(m->data() == nullptr);
	auto bad = MappedMemory::map(-1, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
	CHECK_FALSE(bad);
}

TEST_CASE("WallClock offset agrees with CLOCK_REALTIME", "[core]")
{
	auto clock = WallClock::measure(CLOCK_MONOTONIC);
	CHECK(clock.uncertainty_ns() < 1'000'000);
	std::uint64_t wall = clock.to_wall_ns(clock_ns(CLOCK_MONOTONIC));
	std::uint64_t real = clock_ns(CLOCK_REALTIME);
	std::int64_t diff = static_cast<std::int64_t>(real - wall);
	CHECK(diff >= 0);
	CHECK(diff < 10'000'000); // 10 ms: far tighter than whole seconds
}
