// SPDX-License-Identifier: GPL-2.0-only
// Probe locations resolved in real ELF files: this test binary (a function
// of its own) and the libc it maps, against readelf's numbers.
#include <unistd.h>

#include <climits>
#include <cstring>

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "capture/uprobe/elf_file.hpp"
#include "capture/uprobe/symbols.hpp"
#include "readelf_oracle.hpp"

using namespace capx;
using namespace capx::uprobe;

// The function the tests probe: exported, never inlined, in .symtab.
extern "C" __attribute__((noinline, used)) int capx_test_probe_target(int x)
{
	asm volatile("" ::: "memory");
	return x * 3;
}

// A second definition of a libc function (glibc's <string.h> declares
// it), for the "in several files" error; it interposes libc's harmlessly.
extern "C" __attribute__((noinline, used)) char *strfry(char *string) noexcept
{
	asm volatile("" ::: "memory");
	return string;
}

namespace {

std::string self_exe()
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	REQUIRE(n > 0);
	return std::string(buf, static_cast<std::size_t>(n));
}

std::string base_name(const std::string &p)
{
	return p.substr(p.rfind('/') + 1);
}

Target self_target()
{
	auto t = target_from_pid(getpid());
	REQUIRE(t);
	return *t;
}

std::string libc_path()
{
	auto maps = ProcessMaps::read(getpid());
	REQUIRE(maps);
	const Mapping *m = maps->find_library("libc.so.6");
	REQUIRE(m);
	return m->path;
}

} // namespace

TEST_CASE("ELF file: symbols and PT_LOAD offsets agree with readelf", "[mbuf][symbols]")
{
	for (const std::string &path : {self_exe(), libc_path()}) {
		INFO(path);
		auto elf = ElfFile::open(path);
		REQUIRE(elf);
		REQUIRE_FALSE(elf->segments().empty());
		std::string name = path == self_exe() ? "capx_test_probe_target" : "getpid";
		const ElfSymbol *s = elf->find(name, {2 /* STT_FUNC */});
		REQUIRE(s);
		CHECK(s->value == capx::test::readelf_function_vaddr(path, name));
		auto off = elf->file_offset(s->value);
		REQUIRE(off);
		CHECK(*off == capx::test::readelf_function_offset(path, name));
		CHECK(elf->offset_is_executable(*off));
		CHECK(elf->vaddr_of_offset(*off) == s->value);
		// libc has aliases (getpid, __getpid): any name at that address.
		const ElfSymbol *at = elf->function_at(s->value);
		REQUIRE(at);
		CHECK(at->value == s->value);
		CHECK_FALSE(elf->offset_is_executable(0)); // the ELF header: read-only
	}
	auto libc = ElfFile::open(libc_path());
	REQUIRE(libc);
	CHECK(libc->find("getpid", {1 /* STT_OBJECT */}) == nullptr);

	auto text = ElfFile::open("/etc/passwd");
	REQUIRE_FALSE(text);
	CHECK(text.error().message == "/etc/passwd is not an ELF file");
	auto none = ElfFile::open("/nonexistent.so");
	REQUIRE_FALSE(none);
	CHECK(none.error().message == "/nonexistent.so: no such file");
}

TEST_CASE("locate SYMBOL: the executable's own function", "[mbuf][symbols]")
{
	std::string exe = self_exe();
	auto loc = locate(self_target(), "capx_test_probe_target");
	REQUIRE(loc);
	CHECK(loc->path == exe);
	CHECK(loc->symbol == "capx_test_probe_target");
	CHECK(loc->description == base_name(exe) + ":capx_test_probe_target");
	CHECK(loc->file_offset == capx::test::readelf_function_offset(exe, "capx_test_probe_target"));

	// The same place reached from the function's run-time address.
	auto at = locate_address(getpid(), reinterpret_cast<std::uint64_t>(&capx_test_probe_target));
	REQUIRE(at);
	CHECK(at->path == exe);
	CHECK(at->file_offset == loc->file_offset);
	CHECK(at->symbol == "capx_test_probe_target");
	CHECK(at->description == loc->description);

	auto inside = locate_address(getpid(), reinterpret_cast<std::uint64_t>(&capx_test_probe_target) + 1);
	REQUIRE(inside);
	CHECK(inside->file_offset == loc->file_offset + 1);
	CHECK(inside->symbol.empty());
	CHECK(inside->description == base_name(exe) + ":capx_test_probe_target+0x1");

	static int data_not_code = 0;
	auto data = locate_address(getpid(), reinterpret_cast<std::uint64_t>(&data_not_code));
	REQUIRE_FALSE(data);
	CHECK(data.error().message.find("not in an executable file mapping") != std::string::npos);
}

TEST_CASE("locate SYMBOL in a mapped library, LIB:SYMBOL, LIB:0xOFFSET", "[mbuf][symbols]")
{
	std::string libc = libc_path();
	auto expected = capx::test::readelf_function_offset(libc, "getpid");
	REQUIRE(expected);
	Target t = self_target();

	auto alone = locate(t, "getpid");
	REQUIRE(alone);
	CHECK(alone->path == libc);
	CHECK(alone->file_offset == *expected);
	CHECK(alone->description == "libc.so.6:getpid");

	for (const std::string &lib : std::vector<std::string>{"libc", "libc.so.6", "libc.so", libc}) {
		INFO(lib);
		auto named = locate(t, lib + ":getpid");
		REQUIRE(named);
		CHECK(named->path == libc);
		CHECK(named->file_offset == *expected);
	}

	auto at = locate_address(getpid(), reinterpret_cast<std::uint64_t>(&::getpid));
	REQUIRE(at);
	CHECK(at->path == libc);
	CHECK(at->file_offset == *expected);

	auto raw = locate(t, fmt::format("libc:{:#x}", *expected));
	REQUIRE(raw);
	CHECK(raw->path == libc);
	CHECK(raw->file_offset == *expected);
	CHECK(raw->symbol.empty());
	CHECK(raw->description == fmt::format("libc.so.6+{:#x}", *expected));
}

TEST_CASE("locate errors: unknown names with hints, bad offsets, ambiguity", "[mbuf][symbols]")
{
	Target t = self_target();

	auto typo = locate(t, "capx_test_probe_targte");
	REQUIRE_FALSE(typo);
	CHECK(typo.error().status == ExitStatus::Usage);
	CHECK(typo.error().message == fmt::format("no function 'capx_test_probe_targte' in process {}", getpid()));
	CHECK(typo.error().hint.find("capx_test_probe_target") != std::string::npos);

	auto libc_typo = locate(t, "libc:getpdi");
	REQUIRE_FALSE(libc_typo);
	CHECK(libc_typo.error().hint.find("getpid") != std::string::npos);

	auto nolib = locate(t, "libnothere:foo");
	REQUIRE_FALSE(nolib);
	CHECK(nolib.error().message == fmt::format("no library 'libnothere' in process {}", getpid()));

	auto libc_typo_name = locate(t, "libcc:getpid");
	REQUIRE_FALSE(libc_typo_name);
	CHECK(libc_typo_name.error().hint.find("libc") != std::string::npos);

	auto header = locate(t, "libc:0x0");
	REQUIRE_FALSE(header);
	CHECK(header.error().message.find("is not in an executable segment") != std::string::npos);

	auto bad_hex = locate(t, "libc:0xzz");
	REQUIRE_FALSE(bad_hex);
	CHECK(bad_hex.error().message.find("bad offset") != std::string::npos);

	auto huge = locate(t, "libc:0xffffffffffff");
	REQUIRE_FALSE(huge);

	for (const char *bad : {"", ":getpid", "libc:"}) {
		INFO(bad);
		auto r = locate(t, bad);
		REQUIRE_FALSE(r);
		CHECK(r.error().status == ExitStatus::Usage);
	}

	// A name defined by two files this process maps (strfry, below, and
	// libc's): the error lists both and asks for LIB:SYMBOL.
	auto dup = locate(t, "strfry");
	REQUIRE_FALSE(dup);
	CHECK(dup.error().status == ExitStatus::Usage);
	CHECK(dup.error().message.find("is in several files") != std::string::npos);
	CHECK(dup.error().message.find("libc.so.6") != std::string::npos);
	CHECK(dup.error().message.find(base_name(self_exe())) != std::string::npos);
	CHECK(dup.error().hint.find(":strfry") != std::string::npos);
	char word[] = "capx";
	CHECK(strfry(word) == word); // ours: it leaves the string as it is
}

TEST_CASE("--binary without a running process: the DT_NEEDED closure", "[mbuf][symbols]")
{
	auto t = target_from_binary(self_exe());
	REQUIRE(t);
	t->pids.clear(); // as if no process ran it
	auto files = target_files(*t);
	REQUIRE(files);
	CHECK(files->front() == self_exe());
	bool has_libc = false;
	for (const std::string &f : *files)
		has_libc |= base_name(f) == "libc.so.6";
	CHECK(has_libc);

	auto own = locate(*t, "capx_test_probe_target");
	REQUIRE(own);
	CHECK(own->file_offset == capx::test::readelf_function_offset(self_exe(), "capx_test_probe_target"));
	auto in_libc = locate(*t, "libc:getpid");
	REQUIRE(in_libc);
	CHECK(base_name(in_libc->path) == "libc.so.6");
	CHECK(in_libc->file_offset == capx::test::readelf_function_offset(in_libc->path, "getpid"));
}
