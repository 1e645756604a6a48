// SPDX-License-Identifier: GPL-2.0-only
#include "capture/uprobe/elf_file.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace capx::uprobe {

namespace {

std::string directory_of(const std::string &path)
{
	std::size_t slash = path.rfind('/');
	return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// $ORIGIN and ${ORIGIN} in DT_RUNPATH/DT_RPATH: the directory of the
// object holding the entry (ld.so(8), "Dynamic string tokens").
std::string expand_origin(std::string entry, const std::string &origin)
{
	for (std::string_view token : {"${ORIGIN}", "$ORIGIN"}) {
		std::size_t at;
		while ((at = entry.find(token)) != std::string::npos)
			entry.replace(at, token.size(), origin);
	}
	return entry;
}

} // namespace

ElfFile::ElfFile(ElfFile &&other) noexcept
	: path_(std::move(other.path_)), fd_(std::move(other.fd_)), elf_(std::exchange(other.elf_, nullptr)),
	  type_(other.type_), symbols_(std::move(other.symbols_)), segments_(std::move(other.segments_)),
	  needed_(std::move(other.needed_)), search_path_(std::move(other.search_path_))
{
}

ElfFile &ElfFile::operator=(ElfFile &&other) noexcept
{
	if (this != &other) {
		if (elf_)
			elf_end(elf_);
		path_ = std::move(other.path_);
		fd_ = std::move(other.fd_);
		elf_ = std::exchange(other.elf_, nullptr);
		type_ = other.type_;
		symbols_ = std::move(other.symbols_);
		segments_ = std::move(other.segments_);
		needed_ = std::move(other.needed_);
		search_path_ = std::move(other.search_path_);
	}
	return *this;
}

ElfFile::~ElfFile()
{
	if (elf_)
		elf_end(elf_);
}

[[nodiscard]] Result<ElfFile> ElfFile::open(const std::string &path)
{
	// libelf refuses every call until told the version it is used with.
	static const bool version_ok = elf_version(EV_CURRENT) != EV_NONE;
	if (!version_ok)
		return fail("libelf: cannot initialise");
	ElfFile f;
	f.path_ = path;
	f.fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!f.fd_) {
		if (errno == ENOENT)
			return fail(fmt::format("{}: no such file", path));
		return fail_errno(errno, path);
	}
	f.elf_ = elf_begin(f.fd_.get(), ELF_C_READ_MMAP, nullptr);
	if (!f.elf_ || elf_kind(f.elf_) != ELF_K_ELF)
		return fail(fmt::format("{} is not an ELF file", path));
	GElf_Ehdr eh;
	if (!gelf_getehdr(f.elf_, &eh))
		return fail(fmt::format("{}: {}", path, elf_errmsg(-1)));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
		return fail(fmt::format("{} is not an x86-64 ELF file", path));
	f.type_ = eh.e_type;
	f.load();
	return f;
}

void ElfFile::load()
{
	std::size_t nphdr = 0;
	if (elf_getphdrnum(elf_, &nphdr) == 0)
		for (std::size_t i = 0; i < nphdr; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(elf_, static_cast<int>(i), &ph) || ph.p_type != PT_LOAD)
				continue;
			segments_.push_back({ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz, (ph.p_flags & PF_X) != 0});
		}

	std::set<std::pair<std::string_view, std::uint64_t>> seen;
	std::string origin = directory_of(path_);
	std::string runpath, rpath;
	// .symtab first: a stripped file keeps only .dynsym, which has just the
	// exported names.
	for (Elf64_Word wanted : {SHT_SYMTAB, SHT_DYNSYM, SHT_DYNAMIC}) {
		for (Elf_Scn *scn = elf_nextscn(elf_, nullptr); scn; scn = elf_nextscn(elf_, scn)) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != wanted || sh.sh_entsize == 0)
				continue;
			Elf_Data *data = elf_getdata(scn, nullptr);
			if (!data)
				continue;
			std::size_t count = sh.sh_size / sh.sh_entsize;
			for (std::size_t i = 0; i < count; i++) {
				if (wanted == SHT_DYNAMIC) {
					GElf_Dyn dyn;
					if (!gelf_getdyn(data, static_cast<int>(i), &dyn))
						continue;
					const char *s = nullptr;
					if (dyn.d_tag == DT_NEEDED || dyn.d_tag == DT_RUNPATH || dyn.d_tag == DT_RPATH)
						s = elf_strptr(elf_, sh.sh_link, dyn.d_un.d_val);
					if (!s)
						continue;
					if (dyn.d_tag == DT_NEEDED)
						needed_.emplace_back(s);
					else if (dyn.d_tag == DT_RUNPATH)
						runpath = s;
					else
						rpath = s;
					continue;
				}
				GElf_Sym sym;
				if (!gelf_getsym(data, static_cast<int>(i), &sym) || sym.st_shndx == SHN_UNDEF ||
				    sym.st_name == 0)
					continue;
				const char *name = elf_strptr(elf_, sh.sh_link, sym.st_name);
				if (!name || !*name)
					continue;
				unsigned char type = GELF_ST_TYPE(sym.st_info);
				if (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC)
					continue;
				ElfSymbol s{name, sym.st_value, sym.st_size, type, GELF_ST_BIND(sym.st_info)};
				symbols_.push_back(std::move(s));
			}
		}
	}
	// One entry per (name, address): .symtab and .dynsym repeat exports.
	std::vector<ElfSymbol> unique;
	unique.reserve(symbols_.size());
	for (ElfSymbol &s : symbols_) {
		std::string_view key = s.name;
		if (seen.emplace(key, s.value).second)
			unique.push_back(s);
	}
	symbols_ = std::move(unique);

	std::string path = runpath.empty() ? rpath : runpath;
	std::size_t start = 0;
	while (!path.empty() && start <= path.size()) {
		std::size_t colon = path.find(':', start);
		std::string entry = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
		if (!entry.empty())
			search_path_.push_back(expand_origin(entry, origin));
		if (colon == std::string::npos)
			break;
		start = colon + 1;
	}
}

const ElfSymbol *ElfFile::find(std::string_view name, std::initializer_list<unsigned char> types) const
{
	const ElfSymbol *best = nullptr;
	for (const ElfSymbol &s : symbols_) {
		if (s.name != name || std::find(types.begin(), types.end(), s.type) == types.end())
			continue;
		if (!best || (best->bind == STB_LOCAL && s.bind != STB_LOCAL))
			best = &s;
	}
	return best;
}

const ElfSymbol *ElfFile::function_at(std::uint64_t vaddr) const
{
	const ElfSymbol *best = nullptr;
	for (const ElfSymbol &s : symbols_) {
		if (s.type != STT_FUNC || vaddr < s.value)
			continue;
		bool inside = vaddr < s.value + std::max<std::uint64_t>(s.size, 1);
		if (inside && (!best || (best->bind == STB_LOCAL && s.bind != STB_LOCAL)))
			best = &s;
	}
	return best;
}

std::optional<std::uint64_t> ElfFile::file_offset(std::uint64_t vaddr) const
{
	for (const ElfSegment &seg : segments_)
		if (vaddr >= seg.vaddr && vaddr < seg.vaddr + seg.filesz)
			return vaddr - seg.vaddr + seg.offset;
	return std::nullopt;
}

std::optional<std::uint64_t> ElfFile::vaddr_of_offset(std::uint64_t offset) const
{
	for (const ElfSegment &seg : segments_)
		if (offset >= seg.offset && offset < seg.offset + seg.filesz)
			return offset - seg.offset + seg.vaddr;
	return std::nullopt;
}

bool ElfFile::offset_is_executable(std::uint64_t offset) const
{
	for (const ElfSegment &seg : segments_)
		if (seg.executable && offset >= seg.offset && offset < seg.offset + seg.filesz)
			return true;
	return false;
}

} // namespace capx::uprobe
