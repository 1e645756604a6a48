// SPDX-License-Identifier: GPL-2.0-only
#include "capture/mbuf/mbuf_dwarf.hpp"

#if CAPX_HAVE_LIBDW
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <libelf.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "core/unique_fd.hpp"
#endif

namespace capx::mbuf {

#if CAPX_HAVE_LIBDW

namespace {

struct Wanted {
	const char *name;
	capx_u16 capx_mbuf_layout::*member;
};

constexpr std::array<Wanted, 8> kWanted{{
	{"buf_addr", &capx_mbuf_layout::buf_addr},
	{"data_off", &capx_mbuf_layout::data_off},
	{"nb_segs", &capx_mbuf_layout::nb_segs},
	{"port", &capx_mbuf_layout::port},
	{"pkt_len", &capx_mbuf_layout::pkt_len},
	{"data_len", &capx_mbuf_layout::data_len},
	{"buf_len", &capx_mbuf_layout::buf_len},
	{"next", &capx_mbuf_layout::next},
}};

struct Found {
	capx_mbuf_layout offsets{};
	std::array<bool, kWanted.size()> seen{};
};

// Typedefs and qualifiers peeled off, down to the struct or union.
bool type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute attr;
	if (!dwarf_attr_integrate(die, DW_AT_type, &attr) || !dwarf_formref_die(&attr, out))
		return false;
	for (int depth = 0; depth < 16; depth++) {
		int tag = dwarf_tag(out);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
		    tag != DW_TAG_atomic_type)
			return true;
		Dwarf_Die next;
		if (!dwarf_attr_integrate(out, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &next))
			return false;
		*out = next;
	}
	return false;
}

// Members of a struct or union at `base`; anonymous members (the unions
// and structs rte_mbuf is full of) are walked into. Only the outermost
// name counts: hash.fdir.hi never reads as a field of the mbuf.
void walk(Dwarf_Die *type, unsigned base, Found &found, int depth)
{
	if (depth > 8)
		return;
	Dwarf_Die child;
	if (dwarf_child(type, &child) != 0)
		return;
	do {
		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		Dwarf_Word offset = 0;
		Dwarf_Attribute attr;
		// DWARF 4/5 give a constant (a location expression only in old
		// producers, which this does not read); a union's members have none.
		if (dwarf_attr(&child, DW_AT_data_member_location, &attr))
			dwarf_formudata(&attr, &offset);
		const char *name = dwarf_diename(&child);
		if (!name) {
			Dwarf_Die inner;
			if (type_of(&child, &inner))
				walk(&inner, base + static_cast<unsigned>(offset), found, depth + 1);
			continue;
		}
		for (std::size_t i = 0; i < kWanted.size(); i++)
			if (!found.seen[i] && std::strcmp(name, kWanted[i].name) == 0) {
				found.offsets.*(kWanted[i].member) = static_cast<capx_u16>(base + offset);
				found.seen[i] = true;
			}
	} while (dwarf_siblingof(&child, &child) == 0);
}

std::optional<capx_mbuf_layout> from_dwarf(Dwarf *dw)
{
	Dwarf_Off off = 0, next = 0;
	std::size_t header = 0;
	while (dwarf_nextcu(dw, off, &next, &header, nullptr, nullptr, nullptr) == 0) {
		Dwarf_Die cu, child;
		if (dwarf_offdie(dw, off + header, &cu) && dwarf_child(&cu, &child) == 0) {
			do {
				if (dwarf_tag(&child) != DW_TAG_structure_type || dwarf_hasattr(&child, DW_AT_declaration))
					continue;
				const char *name = dwarf_diename(&child);
				if (!name || std::strcmp(name, "rte_mbuf") != 0)
					continue;
				Found found;
				walk(&child, 0, found, 0);
				if (std::all_of(found.seen.begin(), found.seen.end(), [](bool b) { return b; }))
					return found.offsets;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
	return std::nullopt;
}

struct ElfEnd {
	void operator()(Elf *elf) const { elf_end(elf); }
};
struct DwarfEnd {
	void operator()(Dwarf *dw) const { dwarf_end(dw); }
};

// An object file open for its DWARF. Move-only through its members, so a
// copy cannot end the same handles twice; dw is declared last so that it
// is ended before the Elf it reads, and the Elf before its fd is closed.
struct DwarfFile {
	UniqueFd fd;
	std::unique_ptr<Elf, ElfEnd> elf;
	std::unique_ptr<Dwarf, DwarfEnd> dw;

	bool open(const std::string &path)
	{
		elf_version(EV_CURRENT);
		fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
		if (!fd)
			return false;
		elf.reset(elf_begin(fd.get(), ELF_C_READ_MMAP, nullptr));
		if (!elf)
			return false;
		dw.reset(dwarf_begin_elf(elf.get(), DWARF_C_READ, nullptr));
		return true;
	}
};

// The separate debug file of a stripped object, by its build id
// (/usr/lib/debug/.build-id/xx/rest.debug, gdb's and Debian's -dbgsym
// layout).
std::string debug_file_of(Elf *elf)
{
	const void *id = nullptr;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &id);
	if (n < 2)
		return {};
	const auto *b = static_cast<const unsigned char *>(id);
	std::string hex;
	for (ssize_t i = 1; i < n; i++)
		hex += fmt::format("{:02x}", b[i]);
	return fmt::format("/usr/lib/debug/.build-id/{:02x}/{}.debug", b[0], hex);
}

std::string base_name(const std::string &path)
{
	std::size_t slash = path.rfind('/');
	return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

std::optional<MbufLayout> dwarf_layout(const std::string &path)
{
	DwarfFile file;
	if (!file.open(path))
		return std::nullopt;
	std::optional<capx_mbuf_layout> offsets;
	if (file.dw)
		offsets = from_dwarf(file.dw.get());
	if (!offsets) {
		std::string debug = debug_file_of(file.elf.get());
		DwarfFile separate;
		if (!debug.empty() && separate.open(debug) && separate.dw)
			offsets = from_dwarf(separate.dw.get());
	}
	if (!offsets)
		return std::nullopt;
	auto layout = make_layout("dwarf:" + base_name(path), *offsets);
	if (!layout)
		return std::nullopt;
	return *layout;
}

#else

std::optional<MbufLayout> dwarf_layout(const std::string &)
{
	return std::nullopt;
}

#endif

} // namespace capx::mbuf
