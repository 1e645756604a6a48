// SPDX-License-Identifier: GPL-2.0-only
// The process (or processes) a uprobe target names: who they are, what
// they map, and reading their memory. Everything here is read from /proc
// and process_vm_readv(2); nothing is attached.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace capx::uprobe {

// One line of /proc/PID/maps that maps a file.
struct Mapping {
	std::uint64_t start = 0;
	std::uint64_t end = 0;
	std::uint64_t file_offset = 0;
	std::uint64_t inode = 0;
	std::uint32_t dev_major = 0, dev_minor = 0;
	bool executable = false;
	std::string path; // as the kernel shows it; may be "(deleted)"
};

class ProcessMaps {
public:
	[[nodiscard]] static Result<ProcessMaps> read(pid_t pid);
	// The mapping holding `address`, or null.
	const Mapping *find(std::uint64_t address) const;
	// The first executable mapping of a file whose base name starts with
	// `prefix` (e.g. "librte_mbuf.so"), or null.
	const Mapping *find_library(std::string_view prefix) const;
	// Every distinct mapped file, executable first, in map order.
	std::vector<std::string> files() const;
	std::span<const Mapping> mappings() const { return mappings_; }
	// The executable's path as /proc/PID/exe shows it ("" when unreadable).
	const std::string &executable() const { return exe_; }

	// One line of /proc/PID/maps; nullopt for lines that map no file
	// (anonymous memory, [heap], [stack], [vdso] ...). For tests.
	static std::optional<Mapping> parse_line(std::string_view line);

private:
	std::vector<Mapping> mappings_;
	std::string exe_;
};

// Where a target process's memory is read from (process_vm_readv). The
// whole span or an error: "cannot read process 4242's memory: Operation
// not permitted" (EPERM, with the privilege hint), "process 4242 has
// exited" (ESRCH), "cannot read process 4242's memory: 0x80 bytes at
// 0x7f... are not mapped" (EFAULT or a short read).
[[nodiscard]] Result<void> read_memory(pid_t pid, std::uint64_t address, std::span<std::byte> out);

// The kernel's internal dev_t (sb->s_dev) for a user-space st_dev.
std::uint64_t kernel_dev(dev_t st_dev);

// What `--pid PID` or `--binary PATH` names.
struct Target {
	// Processes found running it now (for --pid: exactly that one). Symbols
	// are looked up in the first one's mappings when there is one.
	std::vector<pid_t> pids;
	// --pid: the pid the uprobes are limited to; --binary: -1 (any process).
	pid_t uprobe_pid = -1;
	// The executable (resolved path) and its identity; with --binary a probe
	// in a shared library fires only in processes running this executable.
	std::string executable;
	// exe_inode is st_ino of the executable (the kernel's inode->i_ino).
	// exe_dev is the device in the kernel's INTERNAL encoding, the value of
	// inode->i_sb->s_dev that bpf/mbuf.bpf.c reads through
	// task->mm->exe_file->f_inode: MKDEV(ma, mi) = ma << 20 | mi
	// (include/linux/kdev_t.h, MINORBITS 20), built from major()/minor() of
	// stat's st_dev. It is NOT st_dev itself (glibc's makedev encoding) nor
	// new_encode_dev() (the encoding stat(2) hands out): for /dev/vda1
	// (254:1) st_dev is 0xfe01 and s_dev is 0xfe00001. Caveat: on btrfs
	// subvolumes and overlayfs, stat's device is not the superblock's s_dev,
	// and a --binary probe there never matches.
	std::uint64_t exe_inode = 0;
	std::uint64_t exe_dev = 0;
	bool by_binary = false;
};

// Errors name the pid or path: "capx: no process 4242", "capx: 4242 is a
// kernel thread", "capx: /opt/x: no such file", "capx: /etc/passwd is not
// an ELF executable". A thread id given to --pid names its process (Tgid).
// --binary resolves symlinks, requires a regular x86-64 ELF file of type
// ET_EXEC or ET_DYN, and lists (sorted) every process whose /proc/PID/exe
// is that file by st_dev/st_ino.
[[nodiscard]] Result<Target> target_from_pid(pid_t pid);
[[nodiscard]] Result<Target> target_from_binary(const std::string &path);

} // namespace capx::uprobe
