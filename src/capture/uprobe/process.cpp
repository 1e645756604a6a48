// SPDX-License-Identifier: GPL-2.0-only
#include "capture/uprobe/process.hpp"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <fstream>
#include <memory>
#include <system_error>

#include <fmt/format.h>

#include "core/unique_fd.hpp"

namespace capx::uprobe {

namespace {

std::string_view base_name(std::string_view path)
{
	std::size_t slash = path.rfind('/');
	return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Splits off the next space-separated field of a maps line.
std::string_view next_field(std::string_view &rest)
{
	std::size_t start = rest.find_first_not_of(' ');
	if (start == std::string_view::npos) {
		rest = {};
		return {};
	}
	rest.remove_prefix(start);
	std::size_t end = rest.find(' ');
	std::string_view field = rest.substr(0, end);
	rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
	return field;
}

template<typename T>
bool parse_hex(std::string_view text, T &out)
{
	if (text.empty())
		return false;
	auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
	return ec == std::errc() && p == text.data() + text.size();
}

bool parse_dec(std::string_view text, std::uint64_t &out)
{
	if (text.empty())
		return false;
	auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
	return ec == std::errc() && p == text.data() + text.size();
}

std::string proc_path(pid_t pid, const char *what)
{
	return fmt::format("/proc/{}/{}", pid, what);
}

// The fields of /proc/PID/stat after the command name, which may itself
// hold spaces and parentheses (fs/proc/array.c do_task_stat: "pid (comm)
// state ppid ...").
[[nodiscard]] Result<std::string> stat_tail(pid_t pid)
{
	std::ifstream in(proc_path(pid, "stat"));
	std::string line;
	if (!in || !std::getline(in, line))
		return fail(fmt::format("no process {}", pid));
	std::size_t close = line.rfind(')');
	if (close == std::string::npos || close + 2 > line.size())
		return fail(fmt::format("cannot parse /proc/{}/stat", pid));
	return line.substr(close + 2);
}

// PF_KTHREAD (include/linux/sched.h): the task is a kernel thread, with no
// user memory to probe.
constexpr std::uint64_t kPfKthread = 0x00200000;

[[nodiscard]] Result<bool> is_kernel_thread(pid_t pid)
{
	auto tail = stat_tail(pid);
	if (!tail)
		return std::unexpected(tail.error());
	// After the comm: state(3) ppid(4) pgrp(5) session(6) tty_nr(7)
	// tpgid(8) flags(9) (proc_pid_stat(5)); the tail starts at field 3.
	std::string_view rest = *tail;
	std::string_view field;
	for (int i = 3; i <= 9; i++)
		field = next_field(rest);
	std::uint64_t flags = 0;
	if (!parse_dec(field, flags))
		return fail(fmt::format("cannot parse /proc/{}/stat", pid));
	return (flags & kPfKthread) != 0;
}

// The thread group (process) a task id belongs to (Tgid: in status).
std::optional<pid_t> thread_group(pid_t pid)
{
	std::ifstream in(proc_path(pid, "status"));
	std::string line;
	while (std::getline(in, line)) {
		if (line.rfind("Tgid:", 0) != 0)
			continue;
		std::uint64_t tgid = 0;
		std::string_view v = line;
		v.remove_prefix(5);
		v.remove_prefix(std::min(v.find_first_not_of(" \t"), v.size()));
		if (parse_dec(v, tgid))
			return static_cast<pid_t>(tgid);
	}
	return std::nullopt;
}

std::string read_link(const std::string &path)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
	return n < 0 ? std::string{} : std::string(buf, static_cast<std::size_t>(n));
}

// The ELF identity check --binary makes: the magic and a type the kernel
// can exec or ld.so can load (ET_EXEC, or ET_DYN for PIE executables and
// shared objects).
[[nodiscard]] Result<void> check_elf(const std::string &path)
{
	UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		return fail_errno(errno, path);
	Elf64_Ehdr eh{};
	ssize_t n = pread(fd.get(), &eh, sizeof(eh), 0);
	if (n != static_cast<ssize_t>(sizeof(eh)) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return fail(fmt::format("{} is not an ELF executable", path));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
		return fail(fmt::format("{} is not an x86-64 ELF file", path));
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return fail(fmt::format("{} is not an ELF executable (it is a relocatable or core file)", path));
	return {};
}

} // namespace

std::uint64_t kernel_dev(dev_t st_dev)
{
	// MKDEV() of include/linux/kdev_t.h: 12 bits of major above 20 bits
	// of minor. major()/minor() undo glibc's user-space encoding.
	return (static_cast<std::uint64_t>(major(st_dev)) << 20) | minor(st_dev);
}

std::optional<Mapping> ProcessMaps::parse_line(std::string_view line)
{
	// "start-end perms offset major:minor inode   path" (fs/proc/task_mmu.c
	// show_map_vma); the path is padded to a column and runs to the end of
	// the line, spaces included, with " (deleted)" appended when the file
	// was unlinked.
	std::string_view rest = line;
	std::string_view range = next_field(rest);
	std::string_view perms = next_field(rest);
	std::string_view offset = next_field(rest);
	std::string_view dev = next_field(rest);
	std::string_view inode = next_field(rest);
	Mapping m;
	std::size_t dash = range.find('-');
	std::size_t colon = dev.find(':');
	if (dash == std::string_view::npos || colon == std::string_view::npos || perms.size() < 3 ||
	    !parse_hex(range.substr(0, dash), m.start) || !parse_hex(range.substr(dash + 1), m.end) ||
	    !parse_hex(offset, m.file_offset) || !parse_hex(dev.substr(0, colon), m.dev_major) ||
	    !parse_hex(dev.substr(colon + 1), m.dev_minor) || !parse_dec(inode, m.inode))
		return std::nullopt;
	std::size_t path_start = rest.find_first_not_of(' ');
	if (path_start == std::string_view::npos)
		return std::nullopt;
	m.path = std::string(rest.substr(path_start));
	// Only files: pseudo paths ([heap], [vdso], [anon:...]) have inode 0
	// or no leading slash; memfd and SysV shm pages are not ELF files.
	if (m.inode == 0 || m.path.empty() || m.path[0] != '/')
		return std::nullopt;
	m.executable = perms[2] == 'x';
	return m;
}

[[nodiscard]] Result<ProcessMaps> ProcessMaps::read(pid_t pid)
{
	std::ifstream in(proc_path(pid, "maps"));
	if (!in) {
		int err = errno;
		if (access(proc_path(pid, "").c_str(), F_OK) != 0)
			return fail(fmt::format("no process {}", pid));
		return fail_errno(err, proc_path(pid, "maps"), privilege_hint());
	}
	ProcessMaps maps;
	std::string line;
	while (std::getline(in, line))
		if (auto m = parse_line(line))
			maps.mappings_.push_back(std::move(*m));
	if (in.bad())
		return fail(fmt::format("cannot read /proc/{}/maps", pid), privilege_hint());
	maps.exe_ = read_link(proc_path(pid, "exe"));
	return maps;
}

const Mapping *ProcessMaps::find(std::uint64_t address) const
{
	for (const Mapping &m : mappings_)
		if (address >= m.start && address < m.end)
			return &m;
	return nullptr;
}

const Mapping *ProcessMaps::find_library(std::string_view prefix) const
{
	for (const Mapping &m : mappings_)
		if (m.executable && base_name(m.path).starts_with(prefix))
			return &m;
	return nullptr;
}

std::vector<std::string> ProcessMaps::files() const
{
	std::vector<std::string> out;
	if (!exe_.empty())
		out.push_back(exe_);
	for (const Mapping &m : mappings_)
		if (std::find(out.begin(), out.end(), m.path) == out.end())
			out.push_back(m.path);
	return out;
}

[[nodiscard]] Result<void> read_memory(pid_t pid, std::uint64_t address, std::span<std::byte> out)
{
	if (out.empty())
		return {};
	iovec local{out.data(), out.size()};
	iovec remote{reinterpret_cast<void *>(address), out.size()};
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n == static_cast<ssize_t>(out.size()))
		return {};
	int err = n < 0 ? errno : EFAULT; // a short read: the rest is unmapped
	switch (err) {
	case ESRCH:
		return fail(fmt::format("process {} has exited", pid));
	case EPERM:
		return fail(fmt::format("cannot read process {}'s memory: {}", pid, std::strerror(err)),
			    privilege_hint());
	case EFAULT:
		return fail(fmt::format("cannot read process {}'s memory: {:#x} bytes at {:#x} are not mapped", pid,
					out.size(), address));
	default:
		return fail(fmt::format("cannot read process {}'s memory at {:#x}: {}", pid, address,
					std::strerror(err)));
	}
}

[[nodiscard]] Result<Target> target_from_pid(pid_t pid)
{
	if (pid <= 0)
		return fail_usage(fmt::format("--pid {}: not a process id", pid));
	struct stat st{};
	if (stat(proc_path(pid, "").c_str(), &st) != 0)
		return fail(fmt::format("no process {}", pid));
	auto kthread = is_kernel_thread(pid);
	if (!kthread)
		return std::unexpected(kthread.error());
	if (*kthread)
		return fail(fmt::format("{} is a kernel thread", pid), "uprobes go into user-space processes");
	// A thread id names its process: the uprobes then fire in every thread
	// (the kernel's uprobe filter compares the mm, not the thread:
	// kernel/trace/trace_uprobe.c __uprobe_perf_filter).
	pid_t tgid = thread_group(pid).value_or(pid);
	Target t;
	t.pids = {tgid};
	t.uprobe_pid = tgid;
	std::string exe_link = proc_path(tgid, "exe");
	t.executable = read_link(exe_link);
	if (t.executable.empty()) {
		int err = errno;
		if (err == ENOENT)
			return fail(fmt::format("process {} has exited", pid));
		return fail_errno(err, fmt::format("cannot read the executable of process {}", pid), privilege_hint());
	}
	// stat() through the magic link reaches the file itself, deleted or in
	// another mount namespace.
	if (stat(exe_link.c_str(), &st) != 0)
		return fail_errno(errno, fmt::format("cannot stat the executable of process {}", pid),
				  privilege_hint());
	t.exe_inode = st.st_ino;
	t.exe_dev = kernel_dev(st.st_dev);
	t.by_binary = false;
	return t;
}

[[nodiscard]] Result<Target> target_from_binary(const std::string &path)
{
	if (path.empty())
		return fail_usage("--binary: empty path");
	char resolved[PATH_MAX];
	if (!realpath(path.c_str(), resolved)) {
		if (errno == ENOENT || errno == ENOTDIR)
			return fail(fmt::format("{}: no such file", path));
		return fail_errno(errno, path);
	}
	Target t;
	t.executable = resolved;
	struct stat st{};
	if (stat(resolved, &st) != 0)
		return fail_errno(errno, path);
	if (!S_ISREG(st.st_mode))
		return fail(fmt::format("{} is not an ELF executable (not a regular file)", path));
	if (auto ok = check_elf(t.executable); !ok)
		return std::unexpected(ok.error());
	t.exe_inode = st.st_ino;
	t.exe_dev = kernel_dev(st.st_dev);
	t.by_binary = true;
	t.uprobe_pid = -1;
	// Every process whose executable is this file, by identity rather than
	// by name (a symlink or another mount of it counts, a copy does not).
	struct CloseDir {
		void operator()(DIR *dir) const { closedir(dir); }
	};
	if (std::unique_ptr<DIR, CloseDir> dir(opendir("/proc")); dir) {
		while (dirent *e = readdir(dir.get())) {
			std::uint64_t pid = 0;
			if (!parse_dec(e->d_name, pid))
				continue;
			struct stat pst{};
			if (stat(fmt::format("/proc/{}/exe", pid).c_str(), &pst) == 0 && pst.st_ino == st.st_ino &&
			    pst.st_dev == st.st_dev)
				t.pids.push_back(static_cast<pid_t>(pid));
		}
	}
	std::sort(t.pids.begin(), t.pids.end());
	return t;
}

} // namespace capx::uprobe
