// SPDX-License-Identifier: GPL-2.0-only
// capx mbuf's view of a process, checked on this test process itself:
// /proc/PID/maps, process_vm_readv, and what --pid / --binary name.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <climits>
#include <cstring>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "capture/uprobe/process.hpp"

using namespace capx;
using namespace capx::uprobe;

namespace {

std::string self_exe()
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	REQUIRE(n > 0);
	return std::string(buf, static_cast<std::size_t>(n));
}

// A pid that surely names no process: a child that has been reaped.
pid_t dead_pid()
{
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	REQUIRE(child > 0);
	int status = 0;
	REQUIRE(waitpid(child, &status, 0) == child);
	return child;
}

extern "C" __attribute__((noinline)) int capx_test_process_anchor(int x)
{
	asm volatile("" ::: "memory");
	return x + 1;
}

} // namespace

TEST_CASE("maps lines: paths with spaces, deleted files, no pseudo files", "[mbuf][process]")
{
	auto m = ProcessMaps::parse_line(
		"7f0a12340000-7f0a12360000 r-xp 00002000 fe:01 131077                     /opt/my app/lib x.so.1");
	REQUIRE(m);
	CHECK(m->start == 0x7f0a12340000);
	CHECK(m->end == 0x7f0a12360000);
	CHECK(m->file_offset == 0x2000);
	CHECK(m->dev_major == 0xfe);
	CHECK(m->dev_minor == 1);
	CHECK(m->inode == 131077);
	CHECK(m->executable);
	CHECK(m->path == "/opt/my app/lib x.so.1");

	auto d = ProcessMaps::parse_line("55d0c0000000-55d0c0001000 r--p 00000000 08:10 42 /tmp/a.out (deleted)");
	REQUIRE(d);
	CHECK_FALSE(d->executable);
	CHECK(d->path == "/tmp/a.out (deleted)");

	CHECK_FALSE(ProcessMaps::parse_line("7ffd6a5f0000-7ffd6a612000 rw-p 00000000 00:00 0                  [stack]"));
	CHECK_FALSE(ProcessMaps::parse_line("7ffd6a7f2000-7ffd6a7f4000 r-xp 00000000 00:00 0                  [vdso]"));
	CHECK_FALSE(ProcessMaps::parse_line("7f0a12340000-7f0a12360000 rw-p 00000000 00:00 0 "));
	CHECK_FALSE(ProcessMaps::parse_line("garbage"));
	CHECK_FALSE(ProcessMaps::parse_line(""));
}

TEST_CASE("maps of this process: the executable, libc, lookups", "[mbuf][process]")
{
	auto maps = ProcessMaps::read(getpid());
	REQUIRE(maps);
	std::string exe = self_exe();
	CHECK(maps->executable() == exe);

	const Mapping *code = maps->find(reinterpret_cast<std::uint64_t>(&capx_test_process_anchor));
	REQUIRE(code);
	CHECK(code->path == exe);
	CHECK(code->executable);

	const Mapping *libc = maps->find(reinterpret_cast<std::uint64_t>(&::getppid));
	REQUIRE(libc);
	CHECK(libc->path.find("libc.so.6") != std::string::npos);
	const Mapping *by_name = maps->find_library("libc.so");
	REQUIRE(by_name);
	CHECK(by_name->path == libc->path);
	CHECK(by_name->executable);
	CHECK(maps->find_library("libc.so.6"));
	CHECK_FALSE(maps->find_library("libnothing_such.so"));
	CHECK_FALSE(maps->find(0));

	auto files = maps->files();
	REQUIRE_FALSE(files.empty());
	CHECK(files.front() == exe);
	CHECK(std::find(files.begin(), files.end(), libc->path) != files.end());
	for (std::size_t i = 0; i < files.size(); i++)
		for (std::size_t j = i + 1; j < files.size(); j++)
			CHECK(files[i] != files[j]);
}

TEST_CASE("read_memory reads this process and names its failures", "[mbuf][process]")
{
	static const char secret[] = "capx reads me through process_vm_readv";
	std::array<std::byte, sizeof(secret)> out{};
	REQUIRE(read_memory(getpid(), reinterpret_cast<std::uint64_t>(secret), out));
	CHECK(std::memcmp(out.data(), secret, sizeof(secret)) == 0);

	auto unmapped = read_memory(getpid(), 0x10, out);
	REQUIRE_FALSE(unmapped);
	CHECK(unmapped.error().message.find("not mapped") != std::string::npos);

	pid_t gone = dead_pid();
	auto exited = read_memory(gone, reinterpret_cast<std::uint64_t>(secret), out);
	REQUIRE_FALSE(exited);
	CHECK(exited.error().message == "process " + std::to_string(gone) + " has exited");
}

TEST_CASE("--pid: the executable's identity in the kernel's encoding", "[mbuf][process]")
{
	auto t = target_from_pid(getpid());
	REQUIRE(t);
	CHECK(t->pids == std::vector<pid_t>{getpid()});
	CHECK(t->uprobe_pid == getpid());
	CHECK_FALSE(t->by_binary);
	CHECK(t->executable == self_exe());
	struct stat st{};
	REQUIRE(stat("/proc/self/exe", &st) == 0);
	CHECK(t->exe_inode == st.st_ino);

	// The oracle for sb->s_dev: /proc/PID/maps prints MAJOR(s_dev) and
	// MINOR(s_dev) of the mapped inode's superblock (show_map_vma), which
	// MKDEV puts back together as major << 20 | minor.
	auto maps = ProcessMaps::read(getpid());
	REQUIRE(maps);
	const Mapping *code = maps->find(reinterpret_cast<std::uint64_t>(&capx_test_process_anchor));
	REQUIRE(code);
	CHECK(t->exe_dev == ((std::uint64_t{code->dev_major} << 20) | code->dev_minor));
	CHECK(code->inode == t->exe_inode);
	CHECK(kernel_dev(makedev(254, 1)) == 0xfe00001);
	CHECK(kernel_dev(makedev(8, 0x123)) == ((8u << 20) | 0x123));
}

TEST_CASE("--pid of a thread names its process", "[mbuf][process]")
{
	std::atomic<pid_t> tid{0};
	std::atomic<bool> done{false};
	std::thread worker([&] {
		tid = static_cast<pid_t>(syscall(SYS_gettid));
		while (!done)
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
	});
	while (tid == 0)
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	auto t = target_from_pid(tid);
	done = true;
	worker.join();
	REQUIRE(t);
	CHECK(tid != getpid());
	CHECK(t->pids == std::vector<pid_t>{getpid()});
	CHECK(t->uprobe_pid == getpid());
}

TEST_CASE("--pid errors: no such process, kernel thread, not a pid", "[mbuf][process]")
{
	pid_t gone = dead_pid();
	auto none = target_from_pid(gone);
	REQUIRE_FALSE(none);
	CHECK(none.error().message == "no process " + std::to_string(gone));

	auto zero = target_from_pid(0);
	REQUIRE_FALSE(zero);
	CHECK(zero.error().status == ExitStatus::Usage);

	// kthreadd is pid 2 in the initial pid namespace.
	std::ifstream comm("/proc/2/comm");
	std::string name;
	if (comm && std::getline(comm, name) && name == "kthreadd") {
		auto k = target_from_pid(2);
		REQUIRE_FALSE(k);
		CHECK(k.error().message == "2 is a kernel thread");
	} else {
		WARN("pid 2 is not kthreadd here (another pid namespace): kernel-thread check not run");
	}
}

TEST_CASE("--binary: ELF check, running processes found by identity", "[mbuf][process]")
{
	auto t = target_from_binary(self_exe());
	REQUIRE(t);
	CHECK(t->by_binary);
	CHECK(t->uprobe_pid == -1);
	CHECK(t->executable == self_exe());
	CHECK(std::find(t->pids.begin(), t->pids.end(), getpid()) != t->pids.end());
	auto by_pid = target_from_pid(getpid());
	REQUIRE(by_pid);
	CHECK(t->exe_dev == by_pid->exe_dev);
	CHECK(t->exe_inode == by_pid->exe_inode);

	// Through a symlink: the same file.
	auto via_proc = target_from_binary("/proc/self/exe");
	REQUIRE(via_proc);
	CHECK(via_proc->executable == self_exe());

	auto missing = target_from_binary("/nonexistent/capx-test");
	REQUIRE_FALSE(missing);
	CHECK(missing.error().message == "/nonexistent/capx-test: no such file");

	auto text = target_from_binary("/etc/passwd");
	REQUIRE_FALSE(text);
	CHECK(text.error().message == "/etc/passwd is not an ELF executable");

	auto dir = target_from_binary("/etc");
	REQUIRE_FALSE(dir);
	CHECK(dir.error().message.find("not a regular file") != std::string::npos);
}
