// SPDX-License-Identifier: GPL-2.0-only
#include "capture/uprobe/symbols.hpp"

#include <elf.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "capture/uprobe/elf_file.hpp"
#include "core/closest_names.hpp"

namespace capx::uprobe {

namespace {

constexpr std::string_view kDeleted = " (deleted)";

std::string base_name(std::string_view path)
{
	std::size_t slash = path.rfind('/');
	return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool exists(const std::string &path)
{
	struct stat st{};
	return stat(path.c_str(), &st) == 0;
}

// A path from /proc/PID/maps as this process can open it: the same path,
// or the target's root's (/proc/PID/root/...) when it runs in another mount
// namespace (a container); the one whose inode and device are the mapped
// file's wins, else the first that exists. The uprobe is set on it.
std::string reachable_path(pid_t pid, const std::string &path, const Mapping *mapping)
{
	if (pid <= 0)
		return path;
	std::string candidates[] = {path, fmt::format("/proc/{}/root{}", pid, path)};
	std::string first_existing;
	for (const std::string &c : candidates) {
		struct stat st{};
		if (stat(c.c_str(), &st) != 0)
			continue;
		if (!mapping || (st.st_ino == mapping->inode && major(st.st_dev) == mapping->dev_major &&
				 minor(st.st_dev) == mapping->dev_minor))
			return c;
		if (first_existing.empty())
			first_existing = c;
	}
	return first_existing.empty() ? path : first_existing;
}

// The ld.so cache as `ldconfig -p` prints it ("\tlibfoo.so.1 (libc6,x86-64)
// => /usr/lib/x86_64-linux-gnu/libfoo.so.1"), x86-64 entries only. Read
// once; empty when ldconfig is missing.
const std::map<std::string, std::string> &ld_cache()
{
	static const std::map<std::string, std::string> cache = [] {
		std::map<std::string, std::string> out;
		const char *ldconfig = access("/sbin/ldconfig", X_OK) == 0 ? "/sbin/ldconfig" : "/usr/sbin/ldconfig";
		std::unique_ptr<FILE, int (*)(FILE *)> pipe(popen(fmt::format("{} -p 2>/dev/null", ldconfig).c_str(), "re"),
							    pclose);
		if (!pipe)
			return out;
		char line[4096];
		while (fgets(line, sizeof(line), pipe.get())) {
			std::string_view l = line;
			std::size_t arrow = l.find(" => ");
			std::size_t paren = l.find(" (");
			if (arrow == std::string_view::npos || paren == std::string_view::npos || paren > arrow)
				continue;
			std::string_view flags = l.substr(paren, arrow - paren);
			if (flags.find("x86-64") == std::string_view::npos)
				continue;
			std::string_view name = l.substr(0, paren);
			name.remove_prefix(std::min(name.find_first_not_of(" \t"), name.size()));
			std::string_view target = l.substr(arrow + 4);
			while (!target.empty() && (target.back() == '\n' || target.back() == ' '))
				target.remove_suffix(1);
			out.emplace(std::string(name), std::string(target));
		}
		return out;
	}();
	return cache;
}

// Where ld.so would find DT_NEEDED `name` of an object with search path
// `search` (ld.so(8): RUNPATH/RPATH, the cache, the default directories).
std::optional<std::string> resolve_needed(const std::string &name, const std::vector<std::string> &search)
{
	if (name.find('/') != std::string::npos)
		return exists(name) ? std::optional(name) : std::nullopt;
	for (const std::string &dir : search)
		if (std::string p = dir + "/" + name; exists(p))
			return p;
	if (auto it = ld_cache().find(name); it != ld_cache().end() && exists(it->second))
		return it->second;
	for (const char *dir : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib",
				"/usr/lib", "/usr/local/lib"})
		if (std::string p = fmt::format("{}/{}", dir, name); exists(p))
			return p;
	return std::nullopt;
}

// The executable and its DT_NEEDED closure, breadth first as ld.so loads
// them.
std::vector<std::string> needed_closure(const std::string &executable)
{
	std::vector<std::string> out{executable};
	std::set<std::string> seen{base_name(executable)};
	std::deque<std::string> queue{executable};
	while (!queue.empty() && out.size() < 1000) {
		auto elf = ElfFile::open(queue.front());
		queue.pop_front();
		if (!elf)
			continue;
		for (const std::string &name : elf->needed()) {
			if (!seen.insert(name).second)
				continue;
			if (auto p = resolve_needed(name, elf->search_path())) {
				out.push_back(*p);
				queue.push_back(*p);
			} else {
				spdlog::debug("{}: needed library {} not found", elf->path(), name);
			}
		}
	}
	return out;
}

std::string where_text(const Target &target)
{
	if (!target.pids.empty())
		return fmt::format("process {}", target.pids.front());
	return fmt::format("{} and its libraries", target.executable);
}

// Library name without its version suffix ("librte_ethdev.so.23" ->
// "librte_ethdev"), for hints.
std::string short_name(const std::string &base)
{
	std::size_t so = base.find(".so");
	return so == std::string::npos ? base : base.substr(0, so);
}

[[nodiscard]] Result<std::string> resolve_library(const Target &target, const std::vector<std::string> &files,
				    std::string_view lib)
{
	if (lib.find('/') != std::string_view::npos) {
		char resolved[PATH_MAX];
		std::string given(lib);
		if (!realpath(given.c_str(), resolved))
			return fail_usage(fmt::format("{}: no such file", given));
		struct stat want{};
		if (stat(resolved, &want) != 0)
			return fail_usage(fmt::format("{}: no such file", given));
		for (const std::string &f : files) {
			struct stat st{};
			if (stat(f.c_str(), &st) == 0 && st.st_ino == want.st_ino && st.st_dev == want.st_dev)
				return f;
		}
		if (!target.pids.empty())
			spdlog::warn("process {} does not map {} (yet): its probes fire once it does", target.pids.front(),
				     given);
		return std::string(resolved);
	}
	// A base-name prefix: "librte_ethdev" or "librte_ethdev.so.23". Names
	// that continue with ".so" or "." (a version) win over longer names
	// ("librte_net" is librte_net.so.23, not librte_net_null.so.23).
	std::vector<std::string> exact, prefixed;
	for (const std::string &f : files) {
		std::string base = base_name(f);
		if (!base.starts_with(lib))
			continue;
		std::string_view after = std::string_view(base).substr(lib.size());
		(after.empty() || after.starts_with(".") ? exact : prefixed).push_back(f);
	}
	const std::vector<std::string> &pick = exact.empty() ? prefixed : exact;
	if (pick.size() == 1)
		return pick.front();
	if (pick.size() > 1) {
		std::string names;
		for (const std::string &f : pick)
			names += (names.empty() ? "" : ", ") + base_name(f);
		return fail_usage(fmt::format("library '{}' matches several files of {}: {}", lib, where_text(target), names),
				  "give a longer name or the path");
	}
	std::vector<std::string> shorts;
	for (std::size_t i = 1; i < files.size(); i++)
		shorts.push_back(short_name(base_name(files[i])));
	auto close = closest_names(short_name(std::string(lib)), shorts);
	std::string hint;
	if (!close.empty()) {
		hint = "closest: ";
		for (std::size_t i = 0; i < close.size(); i++)
			hint += (i ? ", " : "") + close[i];
	}
	return fail_usage(fmt::format("no library '{}' in {}", lib, where_text(target)), hint);
}

struct Found {
	std::string path;
	std::uint64_t offset = 0;
};

// SYMBOL in one file: nullopt when it has no such function; an error when
// it has one that cannot be probed.
[[nodiscard]] Result<std::optional<Found>> find_in(const ElfFile &elf, std::string_view symbol)
{
	const ElfSymbol *s = elf.find(symbol, {STT_FUNC});
	if (!s) {
		if (elf.find(symbol, {STT_GNU_IFUNC}))
			return fail_usage(fmt::format("{} in {} is an IFUNC: its address is the resolver that picks the "
						      "code at load time",
						      symbol, base_name(elf.path())),
					  "probe the implementation it picks by its own name");
		return std::optional<Found>{};
	}
	auto off = elf.file_offset(s->value);
	if (!off)
		return fail(fmt::format("{} in {}: address {:#x} is in no loadable segment", symbol, elf.path(), s->value));
	return std::optional<Found>{Found{elf.path(), *off}};
}

UprobeLocation at_symbol(const Found &f, std::string_view symbol)
{
	UprobeLocation loc;
	loc.path = f.path;
	loc.file_offset = f.offset;
	loc.symbol = std::string(symbol);
	loc.description = fmt::format("{}:{}", base_name(f.path), symbol);
	return loc;
}

std::string closest_hint(std::string_view symbol, const std::vector<std::string> &names)
{
	auto close = closest_names(symbol, names);
	if (close.empty())
		return {};
	std::string hint = "closest: ";
	for (std::size_t i = 0; i < close.size(); i++)
		hint += (i ? ", " : "") + close[i];
	return hint;
}

void add_function_names(const ElfFile &elf, std::vector<std::string> &names)
{
	for (const ElfSymbol &s : elf.symbols())
		if (s.type == STT_FUNC)
			names.push_back(s.name);
}

std::optional<std::uint64_t> parse_offset(std::string_view text)
{
	if (!(text.starts_with("0x") || text.starts_with("0X")) || text.size() == 2)
		return std::nullopt;
	std::uint64_t v = 0;
	auto [p, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), v, 16);
	if (ec != std::errc() || p != text.data() + text.size())
		return std::nullopt;
	return v;
}

} // namespace

[[nodiscard]] Result<std::vector<std::string>> target_files(const Target &target)
{
	if (target.pids.empty()) {
		if (target.executable.empty())
			return fail("no target executable");
		return needed_closure(target.executable);
	}
	pid_t pid = target.pids.front();
	auto maps = ProcessMaps::read(pid);
	if (!maps)
		return std::unexpected(maps.error());
	// Only files with code mapped: data files (locale archives, DPDK's
	// /run/dpdk shared memory, fonts) hold nothing to probe.
	std::set<std::string> with_code{maps->executable()};
	for (const Mapping &m : maps->mappings())
		if (m.executable)
			with_code.insert(m.path);
	std::vector<std::string> out;
	for (const std::string &f : maps->files()) {
		if (!with_code.contains(f))
			continue;
		if (f.ends_with(kDeleted)) {
			spdlog::debug("process {}: {} is deleted, not searched", pid, f);
			continue;
		}
		const Mapping *first = nullptr;
		for (const Mapping &m : maps->mappings())
			if (m.path == f) {
				first = &m;
				break;
			}
		std::string p = reachable_path(pid, f, first);
		if (std::find(out.begin(), out.end(), p) == out.end())
			out.push_back(std::move(p));
	}
	if (out.empty())
		return fail(fmt::format("process {} maps no file", pid));
	return out;
}

[[nodiscard]] Result<UprobeLocation> locate(const Target &target, std::string_view spec)
{
	if (spec.empty())
		return fail_usage("empty probe location");
	auto files = target_files(target);
	if (!files)
		return std::unexpected(files.error());

	std::size_t colon = spec.find(':');
	if (colon != std::string_view::npos) {
		std::string_view lib = spec.substr(0, colon);
		std::string_view what = spec.substr(colon + 1);
		if (lib.empty() || what.empty())
			return fail_usage(fmt::format("'{}': expected LIB:SYMBOL or LIB:0xOFFSET", spec));
		auto path = resolve_library(target, *files, lib);
		if (!path)
			return std::unexpected(path.error());
		auto elf = ElfFile::open(*path);
		if (!elf)
			return std::unexpected(elf.error());
		if (what.starts_with("0x") || what.starts_with("0X")) {
			auto off = parse_offset(what);
			if (!off)
				return fail_usage(fmt::format("'{}': bad offset '{}'", spec, what),
						  "LIB:0xOFFSET takes a hexadecimal file offset");
			if (!elf->offset_is_executable(*off))
				return fail_usage(fmt::format("'{}': offset {:#x} is not in an executable segment of {}",
							      spec, *off, *path));
			UprobeLocation loc;
			loc.path = *path;
			loc.file_offset = *off;
			loc.description = fmt::format("{}+{:#x}", base_name(*path), *off);
			return loc;
		}
		auto found = find_in(*elf, what);
		if (!found)
			return std::unexpected(found.error());
		if (!*found) {
			std::vector<std::string> names;
			add_function_names(*elf, names);
			return fail_usage(fmt::format("no function '{}' in {}", what, *path), closest_hint(what, names));
		}
		return at_symbol(**found, what);
	}

	std::vector<Found> matches;
	std::vector<std::string> names;
	for (std::size_t i = 0; i < files->size(); i++) {
		auto elf = ElfFile::open((*files)[i]);
		if (!elf) {
			// The executable must be readable; a library that is not an
			// ELF file (a locale archive, a font) is simply not searched.
			if (i == 0)
				return std::unexpected(elf.error());
			continue;
		}
		auto found = find_in(*elf, spec);
		if (!found)
			return std::unexpected(found.error());
		if (*found)
			matches.push_back(**found);
		else
			add_function_names(*elf, names);
	}
	if (matches.size() == 1)
		return at_symbol(matches.front(), spec);
	if (matches.empty())
		return fail_usage(fmt::format("no function '{}' in {}", spec, where_text(target)), closest_hint(spec, names));
	std::string list;
	for (const Found &f : matches)
		list += (list.empty() ? "" : ", ") + base_name(f.path);
	return fail_usage(fmt::format("function '{}' is in several files of {}: {}", spec, where_text(target), list),
			  fmt::format("name the file: {}:{}", short_name(base_name(matches.front().path)), spec));
}

[[nodiscard]] Result<UprobeLocation> locate_address(pid_t pid, std::uint64_t address)
{
	auto maps = ProcessMaps::read(pid);
	if (!maps)
		return std::unexpected(maps.error());
	const Mapping *m = maps->find(address);
	if (!m || !m->executable)
		return fail(fmt::format("address {:#x} is not in an executable file mapping of process {}", address, pid));
	if (m->path.ends_with(kDeleted))
		return fail(fmt::format("address {:#x} of process {} is in {}, deleted since it was mapped", address, pid,
					m->path.substr(0, m->path.size() - kDeleted.size())));
	UprobeLocation loc;
	loc.path = reachable_path(pid, m->path, m);
	loc.file_offset = address - m->start + m->file_offset;
	std::string base = base_name(m->path);
	loc.description = fmt::format("{}+{:#x}", base, loc.file_offset);
	if (auto elf = ElfFile::open(loc.path)) {
		if (auto vaddr = elf->vaddr_of_offset(loc.file_offset))
			if (const ElfSymbol *s = elf->function_at(*vaddr)) {
				if (*vaddr == s->value)
					loc.symbol = s->name;
				loc.description = *vaddr == s->value
							  ? fmt::format("{}:{}", base, s->name)
							  : fmt::format("{}:{}+{:#x}", base, s->name, *vaddr - s->value);
			}
	}
	return loc;
}

} // namespace capx::uprobe
