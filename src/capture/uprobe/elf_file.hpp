// SPDX-License-Identifier: GPL-2.0-only
// An ELF file opened with libelf, read for what a uprobe needs: symbols,
// the PT_LOAD segments that turn a symbol's address into an offset in the
// file (what the kernel's uprobe takes), and the dynamic section's
// DT_NEEDED, RUNPATH and RPATH.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/unique_fd.hpp"

struct Elf;

namespace capx::uprobe {

struct ElfSymbol {
	std::string name;
	std::uint64_t value = 0; // virtual address in the file's own layout
	std::uint64_t size = 0;
	unsigned char type = 0;  // STT_FUNC, STT_OBJECT ...
	unsigned char bind = 0;  // STB_GLOBAL, STB_LOCAL, STB_WEAK
};

struct ElfSegment {
	std::uint64_t vaddr = 0, offset = 0, filesz = 0, memsz = 0;
	bool executable = false;
};

class ElfFile {
public:
	[[nodiscard]] static Result<ElfFile> open(const std::string &path);
	ElfFile(ElfFile &&) noexcept;
	ElfFile &operator=(ElfFile &&) noexcept;
	~ElfFile();

	const std::string &path() const { return path_; }
	// Defined symbols of .symtab then .dynsym (one entry per name and
	// address; versions such as "@@DPDK_23" are not part of the name).
	const std::vector<ElfSymbol> &symbols() const { return symbols_; }
	const std::vector<ElfSegment> &segments() const { return segments_; }
	// The defined symbol `name` of one of `types` (STT_*), globals first.
	const ElfSymbol *find(std::string_view name, std::initializer_list<unsigned char> types) const;
	// The function whose [value, value + size) holds vaddr.
	const ElfSymbol *function_at(std::uint64_t vaddr) const;
	// vaddr -> file offset through the PT_LOAD holding it in the file
	// (p_offset + vaddr - p_vaddr); nullopt in .bss or outside every segment.
	std::optional<std::uint64_t> file_offset(std::uint64_t vaddr) const;
	// The inverse, for offsets inside a PT_LOAD's file bytes.
	std::optional<std::uint64_t> vaddr_of_offset(std::uint64_t offset) const;
	// True when the offset lies in the file bytes of an executable PT_LOAD.
	bool offset_is_executable(std::uint64_t offset) const;

	bool is_executable_type() const { return type_ == 2 /* ET_EXEC */; }
	std::vector<std::string> needed() const { return needed_; }
	// DT_RUNPATH, or DT_RPATH when there is no RUNPATH (ld.so(8) order),
	// with $ORIGIN expanded; ':'-separated entries split.
	std::vector<std::string> search_path() const { return search_path_; }

private:
	ElfFile() = default;
	void load();

	std::string path_;
	UniqueFd fd_;
	Elf *elf_ = nullptr;
	unsigned type_ = 0;
	std::vector<ElfSymbol> symbols_;
	std::vector<ElfSegment> segments_;
	std::vector<std::string> needed_;
	std::vector<std::string> search_path_;
};

} // namespace capx::uprobe
